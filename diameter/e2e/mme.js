'use strict';
// An MME driven by a script, for simguard's integration tests and demo.
//
//   node mme.js HOST:PORT ORIGIN-HOST STEPS-JSON
//   node mme.js HOST:PORT ORIGIN-HOST ecr IMSI IMEI [SV]
//
// STEPS-JSON is an array of steps, run in order; each prints one JSON line:
//   {"op":"cer","apps":[16777252,16777251]}
//   {"op":"ecr","imsi":"001010000000001","imei":"35209900000001","sv":"01"}
//   {"op":"ulr","imsi":"…","imei":"…","plmn":"00f110","rat":"EUTRAN"}
//   {"op":"dwr"}  {"op":"dpr"}
//   {"op":"idle","ms":2500}   wait, answering simguard's DWRs (counted)
//   {"op":"closed","ms":5000} wait until simguard closes the connection
// Requests simguard sends (DWR, CLR, IDR) are answered with DIAMETER_SUCCESS
// and printed as {"op":"received",…}.
require('./dictfix');
const diameter = require('diameter');

const [addr, originHost, first, ...rest] = process.argv.slice(2);
const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
let steps;
if (first === 'ecr') {
  steps = [{ op: 'cer', apps: [16777252] }, { op: 'ecr', imsi: rest[0], imei: rest[1], sv: rest[2] }, { op: 'dpr' }];
} else {
  steps = JSON.parse(first);
}

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let closed = false;
let dwrs = 0;
const value = (body, name) => {
  const a = body.find((x) => x[0] === name);
  return a === undefined ? null : a[1];
};

const socket = diameter.createConnection({ host, port, timeout: 10000 }, async () => {
  const conn = socket.diameterConnection;
  let session = 0;
  const req = (app, cmd, avps) => {
    const r = conn.createRequest(app, cmd, `${originHost};${Date.now()};${++session}`);
    r.header.flags.proxiable = true;
    r.body = r.body.concat([['Origin-Host', originHost], ['Origin-Realm', 'test.example']], avps);
    return r;
  };
  try {
    for (const s of steps) {
      if (s.op === 'cer') {
        const r = conn.createRequest('Diameter Common Messages', 'Capabilities-Exchange');
        r.body = [
          ['Origin-Host', originHost], ['Origin-Realm', 'test.example'], ['Host-IP-Address', '127.0.0.1'],
          ['Vendor-Id', 10415], ['Product-Name', 'node-diameter'], ['Supported-Vendor-Id', 10415],
        ].concat((s.apps || [16777252]).map((a) => ['Vendor-Specific-Application-Id', [['Vendor-Id', 10415], ['Auth-Application-Id', a]]]));
        const a = await conn.sendRequest(r);
        out({ op: 'cer', result: value(a.body, 'Result-Code'), origin_host: value(a.body, 'Origin-Host') });
        if (value(a.body, 'Result-Code') !== 'DIAMETER_SUCCESS') break;
      } else if (s.op === 'ecr') {
        const ti = [['IMEI', s.imei]];
        if (s.sv) ti.push(['Software-Version', s.sv]);
        const avps = [['Auth-Session-State', 'NO_STATE_MAINTAINED'], ['Destination-Realm', 'test.example'], ['Terminal-Information', ti]];
        if (s.imsi) avps.push(['User-Name', s.imsi]);
        const a = await conn.sendRequest(req("3GPP S13/S13'", '3GPP-ME-Identity-Check', avps));
        out({ op: 'ecr', imsi: s.imsi, imei: s.imei, result: value(a.body, 'Result-Code'), equipment_status: value(a.body, 'Equipment-Status') });
      } else if (s.op === 'ulr') {
        const avps = [
          ['Vendor-Specific-Application-Id', [['Vendor-Id', 10415], ['Auth-Application-Id', 16777251]]],
          ['Auth-Session-State', 'NO_STATE_MAINTAINED'], ['Destination-Realm', 'test.example'], ['User-Name', s.imsi],
          ['Terminal-Information', [['IMEI', s.imei]]], ['RAT-Type', s.rat || 'EUTRAN'], ['ULR-Flags', 34],
          ['Visited-PLMN-Id', Buffer.from(s.plmn || '00f110', 'hex')],
        ];
        const a = await conn.sendRequest(req('3GPP S6a/S6d', '3GPP-Update-Location', avps));
        const er = value(a.body, 'Experimental-Result');
        out({
          op: 'ulr', imsi: s.imsi, result: value(a.body, 'Result-Code'),
          experimental_result: er ? value(er, 'Experimental-Result-Code') : null,
          experimental_vendor: er ? value(er, 'Vendor-Id') : null,
          origin_host: value(a.body, 'Origin-Host'), ula_flags: value(a.body, 'ULA-Flags'),
        });
      } else if (s.op === 'dwr') {
        const r = conn.createRequest('Diameter Common Messages', 'Device-Watchdog');
        r.body = [['Origin-Host', originHost], ['Origin-Realm', 'test.example']];
        const a = await conn.sendRequest(r);
        out({ op: 'dwr', result: value(a.body, 'Result-Code') });
      } else if (s.op === 'dpr') {
        const r = conn.createRequest('Diameter Common Messages', 'Disconnect-Peer');
        r.body = [['Origin-Host', originHost], ['Origin-Realm', 'test.example'], ['Disconnect-Cause', 'REBOOTING']];
        const a = await conn.sendRequest(r);
        out({ op: 'dpr', result: value(a.body, 'Result-Code') });
      } else if (s.op === 'idle') {
        const before = dwrs;
        await new Promise((res) => setTimeout(res, s.ms));
        out({ op: 'idle', dwrs: dwrs - before, closed });
      } else if (s.op === 'closed') {
        const deadline = Date.now() + s.ms;
        while (!closed && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
        out({ op: 'closed', closed });
      }
    }
  } catch (err) {
    out({ op: 'error', error: String(err) });
  }
  socket.destroy();
});

socket.on('diameterMessage', (event) => {
  const m = event.message;
  if (m.command === 'Device-Watchdog') dwrs++;
  out({ op: 'received', command: m.command, hbh: m.header.hopByHopId, user_name: value(m.body, 'User-Name') });
  event.response.body = event.response.body.concat([
    ['Result-Code', 'DIAMETER_SUCCESS'], ['Origin-Host', originHost], ['Origin-Realm', 'test.example'],
  ]);
  event.callback(event.response);
});
socket.on('end', () => { closed = true; });
socket.on('close', () => { closed = true; });
socket.on('error', (err) => { if (!closed) out({ op: 'socket_error', error: String(err) }); });
