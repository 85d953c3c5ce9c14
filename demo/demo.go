// Package demo builds the demo fleet that "simguard serve --demo" loads: a
// few groups with realistic policies, about a thousand SIMs, and one
// example request for each kind of decision, so a new user can see every
// check at work before wiring a real network.
//
// Identities use the test network MCC 001 and documentation address
// ranges; nothing here points at a real subscriber or host.
package demo

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/simguard/simguard"
)

// Size is the number of SIMs in the demo fleet.
const Size = 1000

// MeterTAC is the device model the smart-meter group allows.
const MeterTAC = "35209900"

// Groups returns the demo groups.
func Groups() []simguard.Group {
	ended := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	began := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	return []simguard.Group{
		{Name: "smart-meters", Description: "Electricity meters: NB-IoT/LTE-M data to the metering head-end only, in the home network.",
			Policy: simguard.Policy{
				Services:   []simguard.Service{simguard.ServiceData, simguard.ServiceSMSMO},
				APNs:       []string{"meters.iot"},
				Location:   simguard.LocationLock{PLMNs: []string{"001-01", "001-02"}},
				RATs:       []simguard.RAT{simguard.RATNBIoT, simguard.RATLTEM, simguard.RAT4G},
				DeviceTACs: []string{MeterTAC},
				Quotas:     simguard.Quotas{Period: "month", DataBytes: 50 << 20, SMSCount: 100, OnExhaustion: "block"},
				SMS:        simguard.SMSPolicy{MO: simguard.SMSPeers{Allow: []string{"12345"}}, PerMinute: 5},
				Egress: []simguard.FlowRule{
					{CIDR: netip.MustParsePrefix("203.0.113.10/32"), Proto: "tcp", Ports: []simguard.PortRange{{From: 8883, To: 8883}}},
					{CIDR: netip.MustParsePrefix("203.0.113.53/32"), Proto: "udp", Ports: []simguard.PortRange{{From: 53, To: 53}}},
				},
			}},
		{Name: "asset-trackers", Description: "GPS trackers: roam in the EU networks, commands by SMS from the fleet platform only.",
			Policy: simguard.Policy{
				Services: []simguard.Service{simguard.ServiceData, simguard.ServiceSMSMO, simguard.ServiceSMSMT},
				APNs:     []string{"track.iot"},
				Location: simguard.LocationLock{PLMNs: []string{"001-01", "001-02", "262-01", "208-01"}},
				RATs:     []simguard.RAT{simguard.RAT2G, simguard.RAT4G, simguard.RATLTEM},
				Quotas:   simguard.Quotas{Period: "day", DataBytes: 5 << 20, SMSCount: 50, OnExhaustion: "alert"},
				SMS: simguard.SMSPolicy{
					MT:        simguard.SMSPeers{Allow: []string{"12345", "4930123"}},
					MO:        simguard.SMSPeers{Allow: []string{"12345"}, Deny: []string{"900", "4919"}},
					Binary:    simguard.BinarySMS{Allow: false},
					PerMinute: 10, SourcePerMinute: 100,
				},
				Egress: []simguard.FlowRule{
					{CIDR: netip.MustParsePrefix("198.51.100.0/24"), Proto: "tcp", Ports: []simguard.PortRange{{From: 443, To: 443}}},
				},
				Inbound: []simguard.FlowRule{
					{CIDR: netip.MustParsePrefix("192.0.2.0/28"), Proto: "tcp", Ports: []simguard.PortRange{{From: 22, To: 22}}},
				},
			}},
		{Name: "pilot-cameras", Description: "A camera pilot whose activation window has ended.",
			Policy: simguard.Policy{
				Services: []simguard.Service{simguard.ServiceData},
				Windows:  []simguard.Window{{From: &began, Until: &ended}},
				APNs:     []string{"video.iot"},
			}},
		{Name: "quarantine", Description: "Where detection moves compromised devices: no service at all.",
			Policy: simguard.Policy{}},
	}
}

// SIM numbering: the i-th SIM (0-based) has these identities.

// IMSI of the i-th demo SIM.
func IMSI(i int) string { return fmt.Sprintf("00101%010d", i+1) }

// ICCID of the i-th demo SIM (19 digits with a Luhn check digit).
func ICCID(i int) string {
	body := fmt.Sprintf("898800100%09d", i+1)
	return body + strconv.Itoa(luhn(body))
}

// MSISDN of the i-th demo SIM.
func MSISDN(i int) string { return fmt.Sprintf("49151%07d", i+1) }

// IMEI of the device the i-th demo SIM is bound to (14 digits).
func IMEI(i int) string { return fmt.Sprintf("%s%06d", MeterTAC, i+1) }

// SIMs returns the demo SIMs: 600 meters (590 explicitly locked), 300 trackers
// (learn lock), 50 cameras, and a few suspended, in inventory and
// terminated, so every state is there to see.
func SIMs() []simguard.SIM {
	sims := make([]simguard.SIM, Size)
	for i := range sims {
		s := simguard.SIM{ICCID: ICCID(i), IMSI: IMSI(i), MSISDN: MSISDN(i), State: simguard.SIMActive,
			Labels: map[string]string{"site": []string{"berlin", "paris", "madrid"}[i%3]}}
		switch {
		case i < 590:
			s.Group = "smart-meters"
			s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: IMEI(i)}
		case i < 600:
			s.Group = "smart-meters" // not locked yet: only the device model is checked
		case i < 900:
			s.Group = "asset-trackers"
			s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockLearn}
		case i < 950:
			s.Group = "pilot-cameras"
		default:
			s.Group = "smart-meters"
			s.IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: IMEI(i)}
			s.State = []simguard.SIMState{simguard.SIMSuspended, simguard.SIMInventory, simguard.SIMTerminated}[i%3]
		}
		if i < 10 {
			s.StaticIP = netip.AddrFrom4([4]byte{10, 64, 0, byte(10 + i)})
		}
		sims[i] = s
	}
	return sims
}

func luhn(payload string) int {
	sum, double := 0, true
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return (10 - sum%10) % 10
}
