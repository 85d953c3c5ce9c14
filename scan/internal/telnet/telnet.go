// Package telnet decodes the Telnet protocol's in-band commands (RFC 854,
// RFC 855 option negotiation, RFC 1091 terminal type) for the scanner's
// identification and the credential auditor's login client.
package telnet

// Command bytes.
const (
	SE   = 240
	SB   = 250
	WILL = 251
	WONT = 252
	DO   = 253
	DONT = 254
	IAC  = 255
)

// Options the clients answer.
const (
	OptEcho     = 1
	OptSGA      = 3
	OptTermType = 24
	OptNAWS     = 31
)

// Command is one negotiation command: a verb (WILL, WONT, DO, DONT, or SB
// for a subnegotiation, whose payload is in Data) and its option.
type Command struct {
	Verb   byte
	Option byte
	Data   []byte
}

// Parse splits b into the text it carries and the commands in it. An
// incomplete command at the end is returned in rest, to be prefixed to the
// next read. IAC IAC is a literal 0xFF in the text; other two-byte commands
// (NOP, GA, …) are dropped. Parse never allocates more than len(b) bytes
// of text and keeps at most 64 commands, so a hostile peer cannot make it
// grow without bound.
func Parse(b []byte) (text []byte, cmds []Command, rest []byte) {
	text = make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c != IAC {
			text = append(text, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return text, cmds, b[i:]
		}
		verb := b[i+1]
		switch {
		case verb == IAC:
			text = append(text, IAC)
			i += 2
		case verb >= WILL && verb <= DONT:
			if i+2 >= len(b) {
				return text, cmds, b[i:]
			}
			cmds = appendCmd(cmds, Command{Verb: verb, Option: b[i+2]})
			i += 3
		case verb == SB:
			end := findSE(b, i+2)
			if end < 0 {
				if len(b)-i > 1024 {
					// A subnegotiation this long is not a real one: drop it.
					return text, cmds, nil
				}
				return text, cmds, b[i:]
			}
			if i+2 < end {
				cmds = appendCmd(cmds, Command{Verb: SB, Option: b[i+2], Data: unescape(b[i+3 : end])})
			}
			i = end + 2
		default:
			i += 2
		}
	}
	return text, cmds, nil
}

func appendCmd(cmds []Command, c Command) []Command {
	if len(cmds) >= 64 {
		return cmds
	}
	return append(cmds, c)
}

// findSE returns the index of the IAC of the IAC SE that ends a
// subnegotiation starting at from, or -1.
func findSE(b []byte, from int) int {
	for j := from; j+1 < len(b); j++ {
		if b[j] == IAC {
			if b[j+1] == SE {
				return j
			}
			if b[j+1] == IAC {
				j++
			}
		}
	}
	return -1
}

func unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == IAC && i+1 < len(b) && b[i+1] == IAC {
			i++
		}
	}
	return out
}

// LooksLikeTelnet reports whether a server's first bytes are Telnet
// negotiation: IAC followed by a negotiation verb or SB.
func LooksLikeTelnet(b []byte) bool {
	return len(b) >= 3 && b[0] == IAC && (b[1] >= WILL && b[1] <= DONT || b[1] == SB)
}

// Answer returns the client's reply to cmds: it agrees to the server
// echoing and suppressing go-ahead, sends terminal type termType when asked,
// and refuses every other option, so that any server reaches its login
// prompt without a real terminal behind us.
func Answer(cmds []Command, termType string) []byte {
	var out []byte
	for _, c := range cmds {
		switch c.Verb {
		case WILL:
			if c.Option == OptEcho || c.Option == OptSGA {
				out = append(out, IAC, DO, c.Option)
			} else {
				out = append(out, IAC, DONT, c.Option)
			}
		case DO:
			if c.Option == OptTermType || c.Option == OptSGA {
				out = append(out, IAC, WILL, c.Option)
			} else {
				out = append(out, IAC, WONT, c.Option)
			}
		case SB:
			// TERMINAL-TYPE SEND (1) → IS (0) <type>.
			if c.Option == OptTermType && len(c.Data) > 0 && c.Data[0] == 1 {
				out = append(out, IAC, SB, OptTermType, 0)
				out = append(out, termType...)
				out = append(out, IAC, SE)
			}
		}
	}
	return out
}
