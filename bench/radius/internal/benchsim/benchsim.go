// Package benchsim defines the bench's SIM population, shared by the
// simguard server, the FreeRADIUS users file and the load generator, so
// that all three agree on which requests must be accepted.
package benchsim

import "fmt"

// APN is the private APN every bench SIM may use.
const APN = "iot.bench"

// IMSI of SIM i (0-based): MCC 001, MNC 01, then the index.
func IMSI(i int) string { return fmt.Sprintf("00101%010d", i) }

// IMEISV of SIM i's bound device, as the PGW sends it (16 digits); the
// identifying 14 are TAC 35300000 and a 6-digit serial.
func IMEISV(i int) string { return fmt.Sprintf("35300000%06d01", i%1000000) }

// Unknown is an IMSI that no bench SIM has.
func Unknown(i int) string { return fmt.Sprintf("00199%010d", i) }

// WrongIMEISV is a device no bench SIM is bound to.
func WrongIMEISV(i int) string { return fmt.Sprintf("86000000%06d01", i%1000000) }
