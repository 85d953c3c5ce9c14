package scan

import (
	"bytes"
	"strconv"
	"strings"
)

// Parsers of the text protocols' first answers: SSH identification
// strings, HTTP and RTSP responses, FTP/SMTP greetings. They take the raw
// bytes a device sent and never trust a length or a count in them.

// SSHBanner is an SSH identification string (RFC 4253 §4.2).
type SSHBanner struct {
	Proto    string // "2.0", or "1.99" for servers that also speak SSH-1
	Software string // "OpenSSH_9.2p1"
	Comments string // "Debian-2+deb12u3"
}

// ParseSSHBanner finds the "SSH-" line among the server's first lines.
func ParseSSHBanner(b []byte) (SSHBanner, bool) {
	for len(b) > 0 {
		line, next, _ := bytes.Cut(b, []byte("\n"))
		b = next
		line = bytes.TrimRight(line, "\r")
		if !bytes.HasPrefix(line, []byte("SSH-")) {
			continue
		}
		if len(line) > 255 {
			line = line[:255]
		}
		s := printable(string(line[4:]))
		proto, rest, ok := strings.Cut(s, "-")
		if !ok || proto == "" {
			return SSHBanner{}, false
		}
		soft, comments, _ := strings.Cut(rest, " ")
		return SSHBanner{Proto: proto, Software: soft, Comments: comments}, true
	}
	return SSHBanner{}, false
}

// HTTPResponse is the head of an HTTP or RTSP response.
type HTTPResponse struct {
	Proto  string // "HTTP/1.1", "RTSP/1.0"
	Status int
	// Header holds the first value of each header, keyed in lower case;
	// WWW-Authenticate values are joined with ", " (a server may offer
	// several schemes).
	Header map[string]string
	Body   []byte // what arrived of the body
}

// AuthScheme returns the first scheme of WWW-Authenticate in lower case
// ("basic", "digest") and its realm.
func (r *HTTPResponse) AuthScheme() (scheme, realm string) {
	v := r.Header["www-authenticate"]
	if v == "" {
		return "", ""
	}
	scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
	scheme = strings.ToLower(scheme)
	if i := strings.Index(strings.ToLower(params), "realm="); i >= 0 {
		realm = params[i+len("realm="):]
		if strings.HasPrefix(realm, `"`) {
			realm, _, _ = strings.Cut(realm[1:], `"`)
		} else {
			realm, _, _ = strings.Cut(realm, ",")
		}
	}
	return scheme, printable(realm)
}

// ParseHTTPResponse reads a response head whose protocol starts with
// protoPrefix ("HTTP/" or "RTSP/"). It accepts a head without its final
// blank line, as a slow device may not send it within the read timeout.
func ParseHTTPResponse(b []byte, protoPrefix string) (HTTPResponse, bool) {
	if !bytes.HasPrefix(b, []byte(protoPrefix)) {
		return HTTPResponse{}, false
	}
	head, body, _ := bytes.Cut(b, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\n")
	first := strings.Fields(strings.TrimRight(lines[0], "\r"))
	if len(first) < 2 || len(first[1]) != 3 {
		return HTTPResponse{}, false
	}
	code, err := strconv.Atoi(first[1])
	if err != nil || code < 100 {
		return HTTPResponse{}, false
	}
	r := HTTPResponse{Proto: printable(first[0]), Status: code, Header: map[string]string{}, Body: body}
	for _, l := range lines[1:] {
		if len(r.Header) >= 64 {
			break
		}
		k, v, ok := strings.Cut(strings.TrimRight(l, "\r"), ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = printable(strings.TrimSpace(v))
		if old, dup := r.Header[k]; dup {
			if k == "www-authenticate" {
				r.Header[k] = old + ", " + v
			}
			continue
		}
		r.Header[k] = v
	}
	return r, true
}

// IsCWMP reports whether an HTTP response comes from a TR-069 (CWMP)
// connection-request endpoint: the port is 7547, or the realm, the Server
// header or the body names CWMP.
func (r *HTTPResponse) IsCWMP(port uint16) bool {
	if port == 7547 {
		return true
	}
	_, realm := r.AuthScheme()
	hay := strings.ToLower(realm + " " + r.Header["server"] + " " + r.Header["soapaction"] + " " + string(r.Body))
	for _, w := range []string{"cwmp", "tr-069", "tr069"} {
		if strings.Contains(hay, w) {
			return true
		}
	}
	return false
}

// Greeting is an FTP or SMTP "220" greeting.
type Greeting struct {
	Service string // ftp or smtp
	Text    string
}

// ParseGreeting recognizes a 220 greeting and tells FTP from SMTP by its
// words (both use 220; SMTP servers say SMTP or ESMTP).
func ParseGreeting(b []byte, port uint16) (Greeting, bool) {
	if !bytes.HasPrefix(b, []byte("220")) || len(b) < 4 || (b[3] != ' ' && b[3] != '-') {
		return Greeting{}, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	text := printable(strings.TrimSpace(string(line[4:])))
	upper := strings.ToUpper(text)
	switch {
	case strings.Contains(upper, "SMTP") || port == 25 || port == 587:
		return Greeting{Service: "smtp", Text: text}, true
	default:
		return Greeting{Service: "ftp", Text: text}, true
	}
}

// printable keeps printable ASCII, turning anything else into '.', and
// cuts at 256 bytes: banners go into reports and logs.
func printable(s string) string {
	if len(s) > 256 {
		s = s[:256]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '.'
		}
	}
	return string(b)
}
