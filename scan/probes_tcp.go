package scan

import (
	"crypto/tls"
	"net"
	"net/netip"
	"strconv"

	"github.com/simguard/simguard/scan/creds"
)

// The client-first TCP exchanges: each writes the protocol's smallest
// harmless question and reads the answer with the parsers of proto_*.go.

func (s *Scanner) exHTTP(c net.Conn, ap netip.AddrPort) (service, bool) {
	host := ap.Addr().String()
	if ap.Addr().Is6() {
		host = "[" + host + "]"
	}
	req := "GET / HTTP/1.1\r\nHost: " + host + ":" + strconv.Itoa(int(ap.Port())) +
		"\r\nUser-Agent: simguard-audit/1\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		return service{}, false
	}
	b := readFor(c, s.cfg.ProbeTimeout, 16<<10, func(b []byte) bool { return headComplete(b) && len(b) > 4096 })
	if r, ok := ParseHTTPResponse(b, "RTSP/"); ok {
		return rtspService(r), true
	}
	r, ok := ParseHTTPResponse(b, "HTTP/")
	if !ok {
		return service{banner: printable(string(b))}, false
	}
	_, isTLS := c.(*tls.Conn)
	svc := service{name: "http", product: r.Header["server"], banner: firstLine(b)}
	if isTLS {
		svc.name = "https"
	}
	if r.IsCWMP(ap.Port()) {
		svc.name = "tr069"
	}
	scheme, realm := r.AuthScheme()
	svc.auth = scheme
	if r.Status == 401 && scheme == "basic" {
		svc.login = &creds.Target{Addr: ap, Service: "http", TLS: isTLS, Path: "/"}
	}
	if realm != "" {
		svc.detail = "realm " + realm
	}
	return svc, true
}

func rtspService(r HTTPResponse) service {
	svc := service{name: "rtsp", product: r.Header["server"], banner: r.Proto + " " + strconv.Itoa(r.Status)}
	svc.auth, _ = r.AuthScheme()
	if r.Status == 200 {
		svc.auth = "none"
	}
	if pub := r.Header["public"]; pub != "" {
		svc.detail = "methods " + pub
	}
	return svc
}

func (s *Scanner) exRTSP(c net.Conn, ap netip.AddrPort) (service, bool) {
	req := "OPTIONS rtsp://" + ap.String() + "/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: simguard-audit/1\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		return service{}, false
	}
	b := readFor(c, s.cfg.ProbeTimeout, 8<<10, headComplete)
	r, ok := ParseHTTPResponse(b, "RTSP/")
	if !ok {
		return service{banner: printable(string(b))}, false
	}
	return rtspService(r), true
}

func (s *Scanner) exMQTT(c net.Conn, ap netip.AddrPort) (service, bool) {
	if _, err := c.Write(mqttConnect("simguard-audit")); err != nil {
		return service{}, false
	}
	b := readFor(c, s.cfg.ProbeTimeout, 64, func(b []byte) bool { return len(b) >= 4 })
	ca, ok := ParseConnack(b)
	if !ok {
		return service{}, false
	}
	svc := service{name: "mqtt", detail: "CONNACK return code " + strconv.Itoa(int(ca.ReturnCode))}
	if _, isTLS := c.(*tls.Conn); isTLS {
		svc.name = "mqtts"
	}
	switch ca.ReturnCode {
	case 0:
		svc.auth = "none"
		c.Write(mqttDisconnect)
	case 4, 5, 0x86, 0x87:
		svc.auth = "password"
	}
	return svc, true
}

func (s *Scanner) exModbus(c net.Conn, ap netip.AddrPort) (service, bool) {
	const txid = 0x5347
	if _, err := c.Write(modbusReadDeviceID(txid)); err != nil {
		return service{}, false
	}
	b := readFor(c, s.cfg.ProbeTimeout, 512, func(b []byte) bool {
		return len(b) >= 6 && len(b) >= 6+int(b[4])<<8|int(b[5])
	})
	info, ok := ParseModbus(b, txid)
	if !ok {
		return service{}, false
	}
	svc := service{name: "modbus", auth: "none", detail: "unit " + strconv.Itoa(int(info.Unit))}
	if info.Exception != 0 {
		svc.detail += ", exception " + strconv.Itoa(int(info.Exception))
	}
	svc.product = joinNonEmpty(" ", info.Vendor, info.Product, info.Revision)
	return svc, true
}
