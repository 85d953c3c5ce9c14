package diameter

import (
	"errors"
	"fmt"

	"github.com/simguard/simguard/diameter/wire"
)

// errClose ends the connection after the answer was queued (DPR/DPA, a
// rejected CER).
var errClose = errors.New("closed by the peer state machine")

// dispatch handles one decoded message. m aliases raw, which the caller
// reuses after dispatch returns.
func (c *conn) dispatch(m *wire.Message, raw []byte) error {
	st := c.st()
	if st == stWaitCER || st == stWaitCEA {
		if m.Code != wire.CmdCapabilitiesExchange || m.IsRequest() != (st == stWaitCER) {
			c.s.dropped(c, "no_cer", fmt.Errorf("%s before the capabilities exchange", wire.CommandAbbrev(m.Code, m.IsRequest())))
			return errors.New("message before CER/CEA")
		}
		if st == stWaitCER {
			return c.handleCER(m)
		}
		return c.handleCEA(m)
	}
	switch m.Code {
	case wire.CmdDeviceWatchdog:
		if m.IsRequest() {
			c.s.m.watchdog.WithLabelValues("dwr_received").Inc()
			c.reply(c.s.answer(m, wire.ResultSuccess, wire.NewUint32(wire.AVPOriginStateID, 0, wire.AVPMandatory, c.s.stateID)))
		} else {
			c.s.m.watchdog.WithLabelValues("dwa_received").Inc()
			if c.st() == stOpen {
				c.dwrSent.Store(0)
			}
		}
		return nil
	case wire.CmdDisconnectPeer:
		if m.IsRequest() {
			c.state.Store(int32(stClosing))
			c.reply(c.s.answer(m, wire.ResultSuccess))
			c.flushAndClose("DPR received")
			return errClose
		}
		return errors.New("DPA received")
	case wire.CmdCapabilitiesExchange:
		if m.IsRequest() {
			// A second CER on an open connection (RFC 6733 §5.3: unexpected).
			c.reply(c.s.errorAnswer(m, wire.ResultUnableToComply, "capabilities already exchanged", nil))
		}
		return nil
	}
	if c.st() == stClosing && m.IsRequest() {
		// The peer was removed (or simguard is stopping): a DPR is out,
		// and until its DPA nothing more is served or relayed for it.
		c.s.count(m, "unable_to_deliver")
		c.reply(c.s.errorAnswer(m, wire.ResultUnableToDeliver, "the connection is closing", nil))
		return nil
	}
	if err := wire.Validate(m.AVPs); err != nil {
		var ae *wire.AVPError
		if m.IsRequest() && errors.As(err, &ae) {
			c.s.count(m, "invalid_avp")
			c.reply(c.s.errorAnswer(m, ae.Result, ae.Error(), &ae.AVP))
			return nil
		}
		c.s.dropped(c, "malformed", err)
		return nil
	}
	if !m.IsRequest() {
		c.s.relayAnswer(c, m, raw)
		return nil
	}
	if c.apps&appBit(m.AppID) == 0 {
		c.s.count(m, "application_unsupported")
		c.reply(c.s.errorAnswer(m, wire.ResultApplicationUnsupported, fmt.Sprintf("application %d was not negotiated", m.AppID), nil))
		return nil
	}
	if c.role == roleHSS {
		c.s.relayToMME(c, m)
		return nil
	}
	switch {
	case m.AppID == wire.AppS13 && m.Code == wire.CmdMEIdentityCheck:
		c.s.handleECR(c, m)
	case m.AppID == wire.AppS6a && m.Code == wire.CmdUpdateLocation:
		c.s.handleULR(c, m)
	case m.AppID == wire.AppS6a:
		if !c.s.ownsSIM(c.tenant(), m) {
			// AIR would hand out another tenant's authentication vectors.
			c.s.count(m, "user_unknown")
			c.reply(c.s.experimentalAnswer(m, wire.ExpUserUnknown))
			return nil
		}
		c.s.relayToHSS(c, m, nil)
	default:
		c.s.count(m, "command_unsupported")
		c.reply(c.s.errorAnswer(m, wire.ResultCommandUnsupported, "", nil))
	}
	return nil
}

// flushAndClose sends what is buffered (a CEA with an error, a DPA) and
// closes the connection.
func (c *conn) flushAndClose(why string) {
	c.flushPending()
	c.close(why)
}
