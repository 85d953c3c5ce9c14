package main

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/simguard/simguard/diameter/wire"
)

type ecrResult struct {
	rate          float64
	p50, p99, max time.Duration
	white, other  int
}

func (r ecrResult) String() string {
	return fmt.Sprintf("%.0f ECA/s, latency p50 %s p99 %s max %s (%d WHITELISTED, %d other)", r.rate, us(r.p50), us(r.p99), us(r.max), r.white, r.other)
}

// ecrMessage encodes an ECR for SIM i with its bound IMEI (every 16th
// with another IMEI: BLACKLISTED), with hop-by-hop id hbh.
func ecrMessage(i int, hbh uint32) []byte {
	dev := imei(i)
	if i%16 == 15 {
		dev = imei(i + 1)
	}
	m := &wire.Message{Header: wire.Header{Version: 1, Flags: wire.FlagRequest | wire.FlagProxiable, Code: wire.CmdMEIdentityCheck, AppID: wire.AppS13, HopByHop: hbh, EndToEnd: hbh}}
	m.Add(wire.NewString(wire.AVPSessionID, 0, wire.AVPMandatory, fmt.Sprintf("%s;%d", mmeHost, hbh)),
		wire.NewUint32(wire.AVPAuthSessionState, 0, wire.AVPMandatory, 1))
	m.Add(origin(mmeHost)...)
	m.Add(wire.NewString(wire.AVPDestinationRealm, 0, wire.AVPMandatory, "bench.example"),
		wire.NewGroup(wire.AVPTerminalInformation, wire.Vendor3GPP, wire.AVPMandatory,
			wire.NewString(wire.AVPIMEI, wire.Vendor3GPP, wire.AVPMandatory, dev),
			wire.NewString(wire.AVPSoftwareVersion, wire.Vendor3GPP, wire.AVPMandatory, "01")),
		wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, imsi(i)))
	return m.Append(nil)
}

// runECR sends warm+n ECRs over conns connections, window outstanding on
// each, and measures the n after the warm-up.
func runECR(addr string, sims, conns, window, warm, n int) (ecrResult, error) {
	total := warm + n
	per := total / conns
	type connResult struct {
		lat          []time.Duration
		white, other int
		first, last  time.Time
		err          error
	}
	results := make([]connResult, conns)
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			res := &results[c]
			p, err := dialPeer(addr)
			if err != nil {
				res.err = err
				return
			}
			defer p.nc.Close()
			if err := p.cer(mmeName(c), wire.AppS13); err != nil {
				res.err = err
				return
			}
			// Pre-encode this connection's requests: the generator should
			// spend its CPU on the socket, not on encoding.
			reqs := make([][]byte, per)
			for k := range reqs {
				reqs[k] = ecrMessage((c*per+k*7919)%sims, uint32(k))
			}
			sent := make([]time.Time, per)
			slots := make(chan struct{}, window)
			warmPer := warm / conns
			res.lat = make([]time.Duration, 0, per-warmPer)
			readErr := make(chan error, 1)
			go func() {
				buf := make([]byte, 4096)
				var m wire.Message
				for k := 0; k < per; k++ {
					b, err := p.read(buf)
					if err != nil {
						readErr <- err
						return
					}
					now := time.Now()
					if err := m.Decode(b); err != nil {
						readErr <- err
						return
					}
					id := m.HopByHop
					if int(id) >= per {
						readErr <- fmt.Errorf("answer with unknown hop-by-hop %d", id)
						return
					}
					if int(id) >= warmPer {
						if res.first.IsZero() {
							res.first = sent[id]
						}
						res.lat = append(res.lat, now.Sub(sent[id]))
						res.last = now
						if es := m.Find(wire.AVPEquipmentStatus, wire.Vendor3GPP); es != nil && binary.BigEndian.Uint32(es.Data) == wire.EquipmentWhitelisted {
							res.white++
						} else {
							res.other++
						}
					}
					<-slots
				}
				readErr <- nil
			}()
			for k := 0; k < per; k++ {
				select {
				case slots <- struct{}{}:
				case err := <-readErr:
					if err == nil {
						err = fmt.Errorf("reader ended early")
					}
					res.err = err
					return
				}
				sent[k] = time.Now()
				p.mu.Lock()
				_, err := p.w.Write(reqs[k])
				if err == nil && len(slots) == window || k == per-1 {
					err = p.w.Flush()
				}
				p.mu.Unlock()
				if err != nil {
					res.err = err
					return
				}
			}
			res.err = <-readErr
		}(c)
	}
	wg.Wait()
	var out ecrResult
	var all []time.Duration
	var first, last time.Time
	for _, r := range results {
		if r.err != nil {
			return out, r.err
		}
		all = append(all, r.lat...)
		out.white += r.white
		out.other += r.other
		if first.IsZero() || r.first.Before(first) {
			first = r.first
		}
		if r.last.After(last) {
			last = r.last
		}
	}
	slices.Sort(all)
	out.rate = float64(len(all)) / last.Sub(first).Seconds()
	out.p50, out.p99, out.max = percentile(all, 0.50), percentile(all, 0.99), all[len(all)-1]
	return out, nil
}

type overhead struct {
	direct, guarded [3]time.Duration // p50, p99, p999
}

func (o overhead) p99Overhead() time.Duration { return o.guarded[1] - o.direct[1] }

func (o overhead) String() string {
	return fmt.Sprintf("direct p50 %s p99 %s p99.9 %s; through simguard p50 %s p99 %s p99.9 %s; overhead p50 %s p99 %s",
		us(o.direct[0]), us(o.direct[1]), us(o.direct[2]), us(o.guarded[0]), us(o.guarded[1]), us(o.guarded[2]),
		us(o.guarded[0]-o.direct[0]), us(o.p99Overhead()))
}

func ulrMessage(i int, hbh uint32) []byte {
	m := &wire.Message{Header: wire.Header{Version: 1, Flags: wire.FlagRequest | wire.FlagProxiable, Code: wire.CmdUpdateLocation, AppID: wire.AppS6a, HopByHop: hbh, EndToEnd: hbh}}
	m.Add(wire.NewString(wire.AVPSessionID, 0, wire.AVPMandatory, fmt.Sprintf("%s;ulr;%d", mmeHost, hbh)),
		vsai(wire.AppS6a), wire.NewUint32(wire.AVPAuthSessionState, 0, wire.AVPMandatory, 1))
	m.Add(origin(mmeHost)...)
	m.Add(wire.NewString(wire.AVPDestinationRealm, 0, wire.AVPMandatory, "bench.example"),
		wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, imsi(i)),
		wire.NewGroup(wire.AVPTerminalInformation, wire.Vendor3GPP, wire.AVPMandatory,
			wire.NewString(wire.AVPIMEI, wire.Vendor3GPP, wire.AVPMandatory, imei(i))),
		wire.NewUint32(wire.AVPRATType, wire.Vendor3GPP, wire.AVPMandatory, 1005),
		wire.NewUint32(wire.AVPULRFlags, wire.Vendor3GPP, wire.AVPMandatory, 0x22),
		wire.NewBytes(wire.AVPVisitedPLMNID, wire.Vendor3GPP, wire.AVPMandatory, []byte{0x00, 0xf1, 0x10}))
	return m.Append(nil)
}

// sequential sends n ULRs (numbered from) one at a time (the next after the answer) and
// returns the sorted latencies; every answer must be DIAMETER_SUCCESS.
func sequential(p *peer, sims, from, n int) ([]time.Duration, error) {
	buf := make([]byte, 4096)
	var m wire.Message
	lat := make([]time.Duration, 0, n)
	for k := from; k < from+n; k++ {
		req := ulrMessage((k*7919)%sims, uint32(k+10))
		t0 := time.Now()
		if err := p.writeFlush(req); err != nil {
			return nil, err
		}
		b, err := p.read(buf)
		if err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t0))
		if err := m.Decode(b); err != nil {
			return nil, err
		}
		rc := m.Find(wire.AVPResultCode, 0)
		if rc == nil || binary.BigEndian.Uint32(rc.Data) != wire.ResultSuccess || m.HopByHop != uint32(k+10) {
			return nil, fmt.Errorf("ULA %d:\n%s", k, wire.Format(&m))
		}
	}
	slices.Sort(lat)
	return lat, nil
}

// runOverhead measures ULR latency straight to the HSS and through
// simguard, alternating one request each, so that the other work on a
// shared machine hits both sides alike.
func runOverhead(guard, hssAddr string, sims, n int) (overhead, error) {
	var o overhead
	direct, err := dialPeer(hssAddr)
	if err != nil {
		return o, err
	}
	defer direct.nc.Close()
	if err := direct.cer("mme-direct.bench.example", wire.AppS6a); err != nil {
		return o, err
	}
	guarded, err := dialPeer(guard)
	if err != nil {
		return o, err
	}
	defer guarded.nc.Close()
	if err := guarded.cer(mmeHost, wire.AppS6a); err != nil {
		return o, err
	}
	var d, g []time.Duration
	for k := 0; k < n; k++ {
		a, err := sequential(direct, sims, k, 1)
		if err != nil {
			return o, fmt.Errorf("direct: %w", err)
		}
		b, err := sequential(guarded, sims, k, 1)
		if err != nil {
			return o, fmt.Errorf("through simguard: %w", err)
		}
		d, g = append(d, a...), append(g, b...)
	}
	slices.Sort(d)
	slices.Sort(g)
	for i, p := range []float64{0.50, 0.99, 0.999} {
		o.direct[i], o.guarded[i] = percentile(d, p), percentile(g, p)
	}
	return o, nil
}
