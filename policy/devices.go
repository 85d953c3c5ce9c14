package policy

import (
	"fmt"

	"github.com/simguard/simguard"
)

// The operator's device list (stolen, blocked, watched IMEIs) is part of
// the snapshot so that every adapter, and "policy check", decides with it
// in the one place policy is decided.

// Rules of device list denials, one per status (constants: no
// allocation on the hot path).
var devRules = [...]string{"", "devices:stolen", "devices:blocked", "devices:watch"}

const (
	devStolen uint8 = iota + 1
	devBlocked
	devWatch
)

// devEntry is one tenant's listing of a device.
type devEntry struct {
	tenant int64
	status uint8
}

// deviceList maps the 14-digit TAC+SNR to who listed it how. It is
// replaced whole on every change: lists are small next to the SIMs, and a
// bulk import rebuilds it once.
type deviceList map[uint64][]devEntry

func deviceStatusCode(s simguard.DeviceStatus) uint8 {
	switch s {
	case simguard.DeviceStolen:
		return devStolen
	case simguard.DeviceBlocked:
		return devBlocked
	case simguard.DeviceWatch:
		return devWatch
	}
	return 0
}

var devStatusNames = [...]simguard.DeviceStatus{"", simguard.DeviceStolen, simguard.DeviceBlocked, simguard.DeviceWatch}

// WithDevices returns a snapshot whose device list is devs (the whole
// list, every tenant's), replacing the previous one.
func (s *Snapshot) WithDevices(devs []simguard.Device) (*Snapshot, error) {
	m := make(deviceList, len(devs))
	for i := range devs {
		d := devs[i]
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("device %d: %w", i, err)
		}
		v, _ := simguard.ParseDigits(d.IMEI)
		m[v] = append(m[v], devEntry{tenant: d.TenantID, status: deviceStatusCode(d.Status)})
	}
	ns := *s
	ns.devices = m
	ns.nDevices = len(devs)
	return &ns, nil
}

// Devices is the number of entries in the device list.
func (s *Snapshot) Devices() int { return s.nDevices }

// hasIMEI: kinds whose requests carry the device identity.
func (e *evaluation) hasIMEI() bool {
	switch e.kind() {
	case simguard.KindDataSession, simguard.KindAttach, simguard.KindIMEICheck:
		return true
	}
	return false
}

// deviceListCheck denies a device the SIM's tenant or the provider listed
// as stolen or blocked, and marks a watched one. The most severe listing
// wins: stolen, then blocked, then watch.
func (e *evaluation) deviceListCheck() bool {
	const check = "device_list"
	if len(e.s.devices) == 0 {
		// No step in the explanation: most fleets keep no list, and
		// their explanations stay as they were.
		return true
	}
	if !e.hasIMEI() {
		return e.skipKind(check, " requests carry no IMEI")
	}
	if e.r.IMEI == "" {
		return e.skip(check, "the request carries no IMEI")
	}
	v, ok := e.requestIMEI()
	if !ok {
		return e.skip(check, "the IMEI is malformed (the IMEI checks decide)")
	}
	var worst uint8
	var by int64
	for _, de := range e.s.devices[v] {
		if de.tenant != simguard.ProviderTenantID && de.tenant != e.d.TenantID {
			continue
		}
		if worst == 0 || de.status < worst {
			worst, by = de.status, de.tenant
		}
	}
	switch worst {
	case 0:
		if e.tr != nil {
			e.tr.add(check, resultPass, "IMEI "+imeiString(v)+" is not on the device list")
		}
		return true
	case devWatch:
		e.watch = true
		if e.tr != nil {
			e.tr.add(check, resultPass, fmt.Sprintf("IMEI %s is on the watch list of tenant %d", imeiString(v), by))
		}
		return true
	}
	if e.tr != nil {
		e.tr.add(check, resultFail, fmt.Sprintf("IMEI %s is listed as %s by tenant %d", imeiString(v), devStatusNames[worst], by))
	}
	return e.deny(simguard.ReasonDeviceBlocked, devRules[worst])
}
