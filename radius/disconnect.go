package radius

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/simguard/simguard"
	"layeh.com/radius"
)

// DisconnectTarget names a session on a NAS (RFC 5176 §3: the session
// identification attributes the NAS matches on).
type DisconnectTarget struct {
	Addr      netip.AddrPort // the NAS's Disconnect/CoA address and port
	Secret    []byte
	SessionID string // Acct-Session-Id
	UserName  string
	FramedIP  netip.Addr
}

// Disconnector sends Disconnect-Requests and waits for the ACK or NAK,
// retransmitting the same packet on timeout.
type Disconnector struct {
	cfg DisconnectConfig
	now func() time.Time
	sem chan struct{}
}

// NewDisconnector makes a Disconnector; cfg's zero fields take defaults.
func NewDisconnector(cfg DisconnectConfig, now func() time.Time) *Disconnector {
	c := Config{Disconnect: cfg}
	c.setDefaults()
	if now == nil {
		now = time.Now
	}
	return &Disconnector{cfg: c.Disconnect, now: now, sem: make(chan struct{}, c.Disconnect.Concurrency)}
}

// Error-Cause value of a NAK for a session the NAS does not have.
const errorCauseSessionNotFound = 503

// Disconnect sends one Disconnect-Request for t and returns how it ended.
// The error is set only for DisconnectError (the request could not be
// built or sent); a NAK or a timeout is an outcome, not an error.
func (d *Disconnector) Disconnect(ctx context.Context, t DisconnectTarget, reason simguard.Reason) (simguard.RADIUSDisconnect, error) {
	res := simguard.RADIUSDisconnect{At: d.now(), Reason: reason}
	select {
	case d.sem <- struct{}{}:
		defer func() { <-d.sem }()
	case <-ctx.Done():
		res.Outcome = simguard.DisconnectError
		return res, ctx.Err()
	}
	var idb [1]byte
	_, _ = rand.Read(idb[:])
	p := &radius.Packet{Code: radius.CodeDisconnectRequest, Identifier: idb[0], Secret: t.Secret}
	if t.UserName != "" {
		p.Add(attrUserName, radius.Attribute(t.UserName))
	}
	p.Add(attrAcctSessionID, radius.Attribute(t.SessionID))
	if t.FramedIP.Is4() {
		p.Add(attrFramedIPAddress, t.FramedIP.AsSlice())
	} else if t.FramedIP.Is6() {
		p.Add(attrFramedIPv6Address, t.FramedIP.AsSlice())
	}
	p.Add(attrEventTimestamp, radius.NewInteger(uint32(res.At.Unix())))
	wire, err := encodeRequest(p)
	if err != nil {
		res.Outcome = simguard.DisconnectError
		return res, fmt.Errorf("disconnect: encode: %w", err)
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(t.Addr))
	if err != nil {
		res.Outcome = simguard.DisconnectError
		return res, fmt.Errorf("disconnect: dial %s: %w", t.Addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()

	buf := make([]byte, radius.MaxPacketLength)
	for res.Attempts < d.cfg.Attempts && ctx.Err() == nil {
		res.Attempts++
		if _, err := conn.Write(wire); err != nil {
			res.Outcome = simguard.DisconnectError
			return res, fmt.Errorf("disconnect: send to %s: %w", t.Addr, err)
		}
		deadline := time.Now().Add(d.cfg.Timeout)
		_ = conn.SetReadDeadline(deadline)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break // retransmit
				}
				continue // e.g. ICMP port unreachable: keep waiting out the attempt
			}
			if out, cause, ok := parseDisconnectReply(buf[:n], wire, t.Secret); ok {
				res.Outcome, res.ErrorCause = out, cause
				return res, nil
			}
			if time.Now().After(deadline) {
				break
			}
		}
	}
	res.Outcome = simguard.DisconnectTimeout
	return res, nil
}

// parseDisconnectReply accepts an authentic ACK or NAK to req.
func parseDisconnectReply(b, req, secret []byte) (simguard.DisconnectOutcome, uint32, bool) {
	if len(b) < 20 || b[1] != req[1] || !radius.IsAuthenticResponse(b, req, secret) {
		return "", 0, false
	}
	p, err := radius.Parse(b, secret)
	if err != nil {
		return "", 0, false
	}
	// RFC 5176 responses compute Message-Authenticator over the request's
	// authenticator; FreeRADIUS over zeros. Either proves the secret.
	off, err := findMessageAuthenticator(b)
	if err != nil {
		return "", 0, false
	}
	if off >= 0 {
		got := [16]byte(b[off : off+16])
		if messageAuthenticator(b, off, req[4:20], secret) != got &&
			messageAuthenticator(b, off, make([]byte, 16), secret) != got {
			return "", 0, false
		}
	}
	cause, _ := u32(p.Get(attrErrorCause))
	switch p.Code {
	case radius.CodeDisconnectACK:
		return simguard.DisconnectACK, cause, true
	case radius.CodeDisconnectNAK:
		return simguard.DisconnectNAK, cause, true
	}
	return "", 0, false
}
