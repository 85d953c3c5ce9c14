'use strict';
// A test HSS: accepts simguard's connection, answers CER, DWR, ULR (with
// ULA-Flags and a Subscription-Data), AIR and PUR with DIAMETER_SUCCESS,
// and prints every request it gets as a JSON line. The first line is
// {"listening":PORT}.
//
//   node hss.js ORIGIN-HOST [PORT]
require('./dictfix');
const diameter = require('diameter');

const originHost = process.argv[2] || 'hss.test.example';
const port = Number(process.argv[3] || 0);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const value = (body, name) => {
  const a = body.find((x) => x[0] === name);
  return a === undefined ? null : a[1];
};

const server = diameter.createServer({}, (socket) => {
  socket.on('diameterMessage', (event) => {
    const m = event.message;
    out({
      received: m.command, hbh: m.header.hopByHopId, e2e: m.header.endToEndId,
      user_name: value(m.body, 'User-Name'), origin_host: value(m.body, 'Origin-Host'),
      route_record: m.body.filter((a) => a[0] === 'Route-Record').map((a) => a[1]),
    });
    const r = event.response;
    r.body = r.body.concat([['Result-Code', 'DIAMETER_SUCCESS'], ['Origin-Host', originHost], ['Origin-Realm', 'test.example']]);
    if (m.command === 'Capabilities-Exchange') {
      r.body = r.body.concat([
        ['Host-IP-Address', '127.0.0.1'], ['Vendor-Id', 10415], ['Product-Name', 'node-diameter-hss'],
        ['Vendor-Specific-Application-Id', [['Vendor-Id', 10415], ['Auth-Application-Id', 16777251]]],
      ]);
    } else if (m.command === '3GPP-Update-Location') {
      r.body = r.body.concat([
        ['Auth-Session-State', 'NO_STATE_MAINTAINED'], ['ULA-Flags', 1],
        ['Subscription-Data', [['Subscriber-Status', 'SERVICE_GRANTED']]],
      ]);
    }
    try {
      event.callback(r);
    } catch (err) {
      out({ error: String(err) });
    }
  });
  socket.on('error', () => {});
});
server.listen(port, '127.0.0.1', () => out({ listening: server.address().port }));
process.on('SIGTERM', () => process.exit(0));
