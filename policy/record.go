package policy

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/simguard/simguard"
)

// simRec is everything the policy needs about one SIM, in 96 bytes and
// without pointers, so that a million of them cost the garbage collector
// nothing to scan. Identifiers are kept as numbers (an IMSI always has 15
// digits, a bound IMEI 14, an MSISDN never starts with 0, so the strings
// can be rebuilt), times as Unix nanoseconds.
type simRec struct {
	id          int64
	imsi        uint64
	msisdn      uint64 // 0: none
	imei        uint64 // bound IMEI (14 digits) when flagBound
	activeUntil int64  // noEnd: no limit
	activeFrom  int64  // noStart: no scheduled start
	repairUntil int64  // noStart: no re-pairing window
	dataUsed    int64
	smsUsed     int64
	ipHi, ipLo  uint64 // static IP, 16 bytes, IPv4 mapped; when flagIP
	group       uint32 // slot in the groups table
	// usageDay and usageMonthEnd place Usage.PeriodStart; see periodDays.
	usageDay      int32
	usageMonthEnd int32
	state         uint8
	lockMode      uint8
	flags         uint8
}

const (
	stInventory uint8 = iota + 1
	stActive
	stSuspended
	stTerminated
)

const (
	lockOff uint8 = iota
	lockExplicit
	lockLearn
)

const (
	flagIP       uint8 = 1 << iota // has a static IP
	flagBound                      // the IMEI lock is bound to imei
	flagMismatch                   // the lock recorded another device since binding
)

func stateName(st uint8) simguard.SIMState {
	switch st {
	case stInventory:
		return simguard.SIMInventory
	case stActive:
		return simguard.SIMActive
	case stSuspended:
		return simguard.SIMSuspended
	case stTerminated:
		return simguard.SIMTerminated
	}
	return ""
}

func lockModeName(m uint8) simguard.IMEILockMode {
	switch m {
	case lockExplicit:
		return simguard.IMEILockExplicit
	case lockLearn:
		return simguard.IMEILockLearn
	}
	return simguard.IMEILockOff
}

// prepareSIM validates a copy of s, leaving the caller's SIM untouched.
func prepareSIM(s *simguard.SIM) (simguard.SIM, error) {
	c := *s
	if c.ID <= 0 {
		return c, simguard.FieldError("id", "must be a positive SIM id, got %d", c.ID)
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// recordOf builds the record of a validated SIM whose group has slot g.
func recordOf(s *simguard.SIM, g uint32) simRec {
	r := simRec{id: s.ID, group: g, activeUntil: noEnd, activeFrom: noStart, repairUntil: noStart}
	r.imsi, _ = simguard.ParseDigits(s.IMSI)
	if s.MSISDN != "" {
		r.msisdn, _ = simguard.ParseDigits(s.MSISDN)
	}
	if s.StaticIP.IsValid() {
		r.ipHi, r.ipLo = ipKey(s.StaticIP)
		r.flags |= flagIP
	}
	switch s.State {
	case simguard.SIMInventory:
		r.state = stInventory
	case simguard.SIMActive:
		r.state = stActive
	case simguard.SIMSuspended:
		r.state = stSuspended
	case simguard.SIMTerminated:
		r.state = stTerminated
	}
	l := &s.IMEILock
	switch l.Mode {
	case simguard.IMEILockExplicit:
		r.lockMode = lockExplicit
	case simguard.IMEILockLearn:
		r.lockMode = lockLearn
	}
	if l.IMEI != "" {
		r.imei, _ = simguard.ParseDigits(l.IMEI)
		r.flags |= flagBound
	}
	if l.State() == simguard.IMEILockMismatch {
		r.flags |= flagMismatch
	}
	if l.RepairUntil != nil {
		r.repairUntil = nsOf(*l.RepairUntil)
	}
	if s.ActiveUntil != nil {
		r.activeUntil = nsOf(*s.ActiveUntil)
	}
	if s.ActiveFrom != nil {
		r.activeFrom = nsOf(*s.ActiveFrom)
	}
	r.dataUsed, r.smsUsed = s.Usage.DataBytes, s.Usage.SMSCount
	r.usageDay, r.usageMonthEnd = periodDays(s.Usage.PeriodStart)
	return r
}

// keys calls fn with every secondary key of r.
func (r *simRec) keys(fn func(kind int, h uint64)) {
	fn(keyID, hashID(r.id))
	if r.msisdn != 0 {
		fn(keyMSISDN, hashMSISDN(r.msisdn))
	}
	if r.flags&flagIP != 0 {
		fn(keyIP, hashIP(r.ipHi, r.ipLo))
	}
}

// ipKey is the 16-byte form of a device address, zone dropped; IPv4 and
// IPv4-mapped IPv6 addresses are the same device.
func ipKey(a netip.Addr) (hi, lo uint64) {
	b := a.Unmap().As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// staticIP rebuilds the address from ipKey's form; it runs on every
// decision, so IPv4 takes a short way.
func (r *simRec) staticIP() netip.Addr {
	switch {
	case r.flags&flagIP == 0:
		return netip.Addr{}
	case r.ipHi == 0 && r.ipLo>>32 == 0xffff:
		v := uint32(r.ipLo)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], r.ipHi)
	binary.BigEndian.PutUint64(b[8:], r.ipLo)
	return netip.AddrFrom16(b)
}

func (r *simRec) lockState() simguard.IMEILockState {
	switch {
	case r.lockMode == lockOff:
		return simguard.IMEILockNone
	case r.flags&flagBound == 0:
		return simguard.IMEILockUnbound
	case r.flags&flagMismatch != 0:
		return simguard.IMEILockMismatch
	}
	return simguard.IMEILockLocked
}

func imsiString(v uint64) string { return fmt.Sprintf("%015d", v) }
func imeiString(v uint64) string { return fmt.Sprintf("%014d", v) }

func msisdnString(v uint64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprintf("%d", v)
}
