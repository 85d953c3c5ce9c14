'use strict';
// Writes golden Diameter messages encoded by node-diameter (the real peer)
// to ../wire/testdata/*.bin. Run: node gen-golden.js (after npm ci).
const fs = require('fs');
const path = require('path');
require('./dictfix');
const codec = require('diameter/lib/diameter-codec');

const out = path.join(__dirname, '..', 'wire', 'testdata');
function write(name, app, cmd, body, hbh, e2e, answerOf) {
  let m;
  if (answerOf) {
    m = codec.constructResponse(answerOf);
  } else {
    m = codec.constructRequest(app, cmd, body.shift()[1]);
    m.header.flags.proxiable = cmd !== 'Capabilities-Exchange';
  }
  m.header.hopByHopId = hbh;
  m.header.endToEndId = e2e;
  m.body = m.body.concat(body);
  const buf = codec.encodeMessage(m);
  fs.writeFileSync(path.join(out, name + '.bin'), buf);
  return m;
}

write('cer', 'Diameter Common Messages', 'Capabilities-Exchange', [
  ['Session-Id', 'unused'],
], 1, 2);
// node-diameter puts Session-Id first; CER has none, so build CER by hand.
const cer = codec.constructRequest('Diameter Common Messages', 'Capabilities-Exchange', 'x');
cer.body = [
  ['Origin-Host', 'mme.example.net'],
  ['Origin-Realm', 'example.net'],
  ['Host-IP-Address', '127.0.0.1'],
  ['Vendor-Id', 10415],
  ['Product-Name', 'node-diameter'],
  ['Supported-Vendor-Id', 10415],
  ['Auth-Application-Id', 16777252],
  ['Vendor-Specific-Application-Id', [['Vendor-Id', 10415], ['Auth-Application-Id', 16777251]]],
];
cer.header.hopByHopId = 0x11111111;
cer.header.endToEndId = 0x22222222;
fs.writeFileSync(path.join(out, 'cer.bin'), codec.encodeMessage(cer));

const ecr = write('ecr', "3GPP S13/S13'", '3GPP-ME-Identity-Check', [
  ['Session-Id', 'mme.example.net;1;2;ecr'],
  ['Auth-Session-State', 'NO_STATE_MAINTAINED'],
  ['Origin-Host', 'mme.example.net'],
  ['Origin-Realm', 'example.net'],
  ['Destination-Realm', 'eir.example.net'],
  ['Terminal-Information', [['IMEI', '35609204079300'], ['Software-Version', '01']]],
  ['User-Name', '001010000000001'],
], 0x01020304, 0x0a0b0c0d);

const eca = codec.constructResponse(ecr);
eca.body = eca.body.concat([
  ['Result-Code', 2001],
  ['Auth-Session-State', 'NO_STATE_MAINTAINED'],
  ['Origin-Host', 'eir.example.net'],
  ['Origin-Realm', 'example.net'],
  ['Equipment-Status', 'BLACKLISTED'],
]);
fs.writeFileSync(path.join(out, 'eca.bin'), codec.encodeMessage(eca));

write('ulr', '3GPP S6a/S6d', '3GPP-Update-Location', [
  ['Session-Id', 'mme.example.net;1;2;ulr'],
  ['Vendor-Specific-Application-Id', [['Vendor-Id', 10415], ['Auth-Application-Id', 16777251]]],
  ['Auth-Session-State', 'NO_STATE_MAINTAINED'],
  ['Origin-Host', 'mme.example.net'],
  ['Origin-Realm', 'example.net'],
  ['Destination-Realm', 'hss.example.net'],
  ['User-Name', '001010000000001'],
  ['Terminal-Information', [['IMEI', '35609204079300'], ['Software-Version', '01']]],
  ['RAT-Type', 'EUTRAN'],
  ['ULR-Flags', 34],
  ['Visited-PLMN-Id', Buffer.from([0x00, 0xf1, 0x10])],
], 0x05060708, 0x0e0f1011);

const dwr = codec.constructRequest('Diameter Common Messages', 'Device-Watchdog', 'x');
dwr.body = [['Origin-Host', 'mme.example.net'], ['Origin-Realm', 'example.net'], ['Origin-State-Id', 7]];
dwr.header.hopByHopId = 3; dwr.header.endToEndId = 4;
fs.writeFileSync(path.join(out, 'dwr.bin'), codec.encodeMessage(dwr));
