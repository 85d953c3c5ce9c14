// Package uli decodes the 3GPP-User-Location-Info RADIUS attribute
// (vendor 10415, type 22; 3GPP TS 29.061 §16.4.7.2), whose geographic
// location fields are coded as in TS 29.274 §8.21 (CGI, SAI, RAI, TAI,
// ECGI, macro and extended macro eNodeB ID) and, for 5GS, with a 3-octet
// TAC and a 36-bit NR cell identity.
//
// Decode is pure (no I/O, no allocation for the cell and area types) and
// strict: a field of the wrong length, a non-BCD digit or an unknown
// location type is an error, never a guess, because the result feeds a
// location lock.
package uli
