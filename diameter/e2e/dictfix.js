'use strict';
// node-diameter 0.7.0 looks AVPs up by name with the first match, and its
// dictionary has two "RAT-Type" AVPs: 808 (vendor 5535, 3GPP2) before the
// 3GPP one (1032, vendor 10415) that S6a uses. Make the name resolve to
// 1032 and add the TS 29.212 values its enum list lacks (NB-IoT, NR,
// LTE-M, NR-U), so the scripts can send real S6a RAT-Types.
const dict = require('diameter/lib/diameter-dictionary');
const rat = dict.getAvpByCodeAndVendorId(1032, 10415);
for (const [code, name] of [[1005, 'EUTRAN-NB-IoT'], [1006, 'NR'], [1007, 'LTE-M'], [1008, 'NR-U']]) {
  if (!rat.enums.some((e) => e.code === code)) rat.enums.push({ code, name });
}
Object.assign(dict.getAvpByName('RAT-Type'), JSON.parse(JSON.stringify(rat)));
module.exports = dict;
