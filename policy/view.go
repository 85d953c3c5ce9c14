package policy

import (
	"net/netip"
	"time"

	"github.com/simguard/simguard"
)

// SIMView is what adapters may read about one SIM. Building one formats
// its identifiers (it allocates); ServiceOn does not.
type SIMView struct {
	ID       int64
	TenantID int64
	IMSI     string
	MSISDN   string // "" for data-only SIMs
	State    simguard.SIMState
	Group    string
	StaticIP netip.Addr // zero when none
	// IMEILockMode and IMEILockState describe the lock; IMEI is the bound
	// device (14 digits), "" while unbound or without a lock.
	IMEILockMode  simguard.IMEILockMode
	IMEILockState simguard.IMEILockState
	IMEI          string
	// ActiveFrom and ActiveUntil bound a scheduled or time-limited
	// activation; zero when none.
	ActiveFrom  time.Time
	ActiveUntil time.Time

	rec simRec
	g   *compiledGroup // nil: the group is missing
}

// ServiceOn reports whether the SIM may use svc at t as far as the SIM
// alone decides: it is active, its group enables svc, t is inside the
// service's windows and before ActiveUntil, and the quota of svc (data or
// SMS) does not block. The gateway uses it to decide which addresses may
// pass; per-request checks (IMEI, location, peers, destinations) are
// Evaluate's.
func (v SIMView) ServiceOn(svc simguard.Service, t time.Time) bool {
	bit := serviceBit(svc)
	r := &v.rec
	if v.g == nil || bit == 0 || r.state != stActive || v.g.services&bit == 0 {
		return false
	}
	ns := nsOf(t)
	if ns >= r.activeUntil || ns < r.activeFrom {
		return false
	}
	if on, _ := v.g.serviceOn(bit, ns); !on {
		return false
	}
	exhausted, _, _, _ := v.g.quotaExhausted(r, bit != svcData, ns)
	return !exhausted || v.g.quotaAlert
}

func (s *Snapshot) view(r *simRec) SIMView {
	slot := &s.groups.slots[r.group]
	v := SIMView{
		ID: r.id, TenantID: slot.tenant, IMSI: imsiString(r.imsi), MSISDN: msisdnString(r.msisdn),
		State: stateName(r.state), Group: slot.name, StaticIP: r.staticIP(),
		IMEILockMode: lockModeName(r.lockMode), IMEILockState: r.lockState(),
		ActiveFrom: timeOf(r.activeFrom), ActiveUntil: timeOf(r.activeUntil), rec: *r, g: slot.g,
	}
	if r.flags&flagBound != 0 {
		v.IMEI = imeiString(r.imei)
	}
	return v
}

// SIMByIMSI finds a SIM by its 15-digit IMSI.
func (s *Snapshot) SIMByIMSI(imsi string) (SIMView, bool) {
	v, ok := parseIMSI(imsi)
	if !ok {
		return SIMView{}, false
	}
	return s.viewOf(s.findIMSI(v))
}

// SIMByMSISDN finds a SIM by its MSISDN (digits, optional leading "+").
func (s *Snapshot) SIMByMSISDN(msisdn string) (SIMView, bool) {
	v, ok := parseMSISDN(msisdn)
	if !ok {
		return SIMView{}, false
	}
	return s.viewOf(s.findMSISDN(v))
}

// SIMByID finds a SIM by its ID.
func (s *Snapshot) SIMByID(id int64) (SIMView, bool) {
	return s.viewOf(s.findID(id))
}

// SIMByIP finds a SIM by its static IP.
func (s *Snapshot) SIMByIP(ip netip.Addr) (SIMView, bool) {
	if !ip.IsValid() {
		return SIMView{}, false
	}
	return s.viewOf(s.findIP(ipKey(ip)))
}

func (s *Snapshot) viewOf(r *simRec) (SIMView, bool) {
	if r == nil {
		return SIMView{}, false
	}
	return s.view(r), true
}

// RangeSIMs calls fn for every SIM, in no particular order, until fn
// returns false.
func (s *Snapshot) RangeSIMs(fn func(SIMView) bool) {
	for k := range s.prim {
		sh := &s.prim[k]
		for i := range sh.recs {
			if sh.recs[i].id != 0 && !fn(s.view(&sh.recs[i])) {
				return
			}
		}
	}
}
