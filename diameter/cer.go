package diameter

import (
	"errors"
	"net/netip"

	"github.com/simguard/simguard/diameter/wire"
)

// advertisedApps reads the Auth-Application-Ids of a CER/CEA, top level
// and inside Vendor-Specific-Application-Id. relay is true when the peer
// advertised the relay application (it takes every application).
func advertisedApps(m *wire.Message) (apps []uint32, relay bool) {
	add := func(a *wire.AVP) {
		if v, err := a.Uint32(); err == nil {
			if v == wire.AppRelay {
				relay = true
			}
			apps = append(apps, v)
		}
	}
	for i := range m.AVPs {
		a := &m.AVPs[i]
		if a.Flags&wire.AVPVendor != 0 {
			continue
		}
		switch a.Code {
		case wire.AVPAuthApplicationID:
			add(a)
		case wire.AVPVendorSpecificApplicationID:
			inner, err := a.Group()
			if err != nil {
				continue
			}
			for j := range inner {
				if inner[j].Code == wire.AVPAuthApplicationID && inner[j].Flags&wire.AVPVendor == 0 {
					add(&inner[j])
				}
			}
		}
	}
	return apps, relay
}

func identity(m *wire.Message, code uint32) string {
	if a := m.Find(code, 0); a != nil {
		return string(a.Data)
	}
	return ""
}

// capabilities are the AVPs of our CER/CEA for apps.
func (s *Server) capabilities(local netip.Addr, apps []uint32) []wire.AVP {
	if !local.IsValid() {
		local = netip.IPv4Unspecified()
	}
	avps := []wire.AVP{
		wire.NewAddress(wire.AVPHostIPAddress, 0, wire.AVPMandatory, local),
		wire.NewUint32(wire.AVPVendorID, 0, wire.AVPMandatory, 0),
		wire.NewString(wire.AVPProductName, 0, 0, "simguard"),
		wire.NewUint32(wire.AVPOriginStateID, 0, wire.AVPMandatory, s.stateID),
		wire.NewUint32(wire.AVPSupportedVendorID, 0, wire.AVPMandatory, wire.Vendor3GPP),
	}
	for _, app := range apps {
		// 3GPP applications are advertised vendor-specific (TS 29.272 §7.1.8).
		avps = append(avps, wire.NewGroup(wire.AVPVendorSpecificApplicationID, 0, wire.AVPMandatory,
			wire.NewUint32(wire.AVPVendorID, 0, wire.AVPMandatory, wire.Vendor3GPP),
			wire.NewUint32(wire.AVPAuthApplicationID, 0, wire.AVPMandatory, app)))
	}
	return avps
}

func localAddr(c *conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.nc.LocalAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// handleCER answers an MME's CER: known peer, then common applications.
func (c *conn) handleCER(m *wire.Message) error {
	s := c.s
	if err := wire.Validate(m.AVPs); err != nil {
		s.dropped(c, "malformed", err)
		return err
	}
	host, realm := identity(m, wire.AVPOriginHost), identity(m, wire.AVPOriginRealm)
	p, why := s.knownPeer(host, realm, c.remote)
	// A known peer's names are short; an unknown one's are clipped
	// before they reach logs and events.
	host, realm = clip(host), clip(realm)
	c.setHost(host)
	c.realm = realm
	if why != "" {
		s.m.cer.WithLabelValues("unknown_peer").Inc()
		s.emitPeer(c, "rejected", why)
		s.log.Warn("diameter: CER from an unknown peer", "origin_host", host, "remote", c.remote.String(), "why", why)
		c.setHost("") // not the registered connection of that host
		c.reply(s.errorAnswer(m, wire.ResultUnknownPeer, "", nil))
		c.flushAndClose("unknown peer: " + why)
		return errClose
	}
	theirs, relay := advertisedApps(m)
	var common []uint32
	for _, ours := range s.ourApps() {
		for _, t := range theirs {
			if t == ours || relay {
				common = append(common, ours)
				break
			}
		}
	}
	if len(common) == 0 {
		s.m.cer.WithLabelValues("no_common_application").Inc()
		s.emitPeer(c, "rejected", "no common application")
		c.setHost("")
		c.reply(s.answer(m, wire.ResultNoCommonApplication, s.capabilities(localAddr(c), s.ourApps())...))
		c.flushAndClose("no common application")
		return errClose
	}
	for _, a := range common {
		c.apps |= appBit(a)
	}
	c.peer.Store(&p)
	c.state.Store(int32(stOpen))
	c.authenticated()
	s.openMME(c)
	s.m.cer.WithLabelValues("success").Inc()
	c.reply(s.answer(m, wire.ResultSuccess, s.capabilities(localAddr(c), common)...))
	s.emitPeer(c, "connected", "")
	s.log.Info("diameter: peer connected", "peer", host, "remote", c.remote.String(), "apps", common)
	return nil
}

// handleCEA completes our CER to the HSS.
func (c *conn) handleCEA(m *wire.Message) error {
	s := c.s
	rc := resultOf(m)
	host := identity(m, wire.AVPOriginHost)
	if rc != wire.ResultSuccess {
		s.emitPeer(c, "rejected", "HSS answered CER with "+resultName(rc))
		return errors.New("HSS refused the capabilities exchange: " + resultName(rc))
	}
	if host != s.cfg.HSS.Host {
		s.emitPeer(c, "rejected", "HSS Origin-Host "+host+" is not the configured "+s.cfg.HSS.Host)
		return errors.New("HSS Origin-Host mismatch: " + host)
	}
	theirs, relay := advertisedApps(m)
	for _, t := range theirs {
		if t == wire.AppS6a || relay {
			c.apps = appS6a
		}
	}
	if c.apps == 0 {
		s.emitPeer(c, "rejected", "HSS does not support S6a")
		return errors.New("HSS advertised no S6a application")
	}
	c.setHost(host)
	c.realm = identity(m, wire.AVPOriginRealm)
	c.state.Store(int32(stOpen))
	s.mu.Lock()
	s.hss = c
	s.mu.Unlock()
	c.readyOnce.Do(func() { close(c.hssReady) })
	s.emitPeer(c, "connected", "")
	s.log.Info("diameter: HSS connected", "hss", host, "addr", s.cfg.HSS.Addr)
	return nil
}

// resultOf is the Result-Code, or the Experimental-Result-Code; 0 none.
func resultOf(m *wire.Message) uint32 {
	if a := m.Find(wire.AVPResultCode, 0); a != nil {
		v, _ := a.Uint32()
		return v
	}
	if a := m.Find(wire.AVPExperimentalResult, 0); a != nil {
		if inner, err := a.Group(); err == nil {
			if r := wire.Find(inner, wire.AVPExperimentalResultCode, 0); r != nil {
				v, _ := r.Uint32()
				return v
			}
		}
	}
	return 0
}
