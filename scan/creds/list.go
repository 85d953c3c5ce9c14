package creds

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"

	"github.com/simguard/simguard"
)

// Pair is one username/password to try. Source names where it came from
// ("builtin:4", "user:12": the list and its line), which is what findings
// record instead of the password.
type Pair struct {
	Username string
	Password string
	Source   string
}

// Limits of a credential list.
const (
	maxFieldLen = 128
	maxPairs    = 10000
)

//go:embed defaults.txt
var builtinText string

// Builtin returns the shipped default pairs, most common first.
func Builtin() []Pair {
	pairs, err := ParseList(strings.NewReader(builtinText), "builtin")
	if err != nil {
		// The file is embedded and checked by a test; a bad line is a build bug.
		panic(fmt.Sprintf("creds: defaults.txt: %v", err))
	}
	return pairs
}

// ParseList reads a credential list: one "username:password" per line,
// split at the first colon (RFC 7617 forbids colons in user names too), so
// "root:" is root with an empty password and "admin:a:b" has password
// "a:b". Blank lines and lines starting with '#' are skipped; trailing
// "\r" is dropped; control characters, empty user names and fields longer
// than 128 bytes are errors naming the line. source prefixes each pair's
// Source ("user" → "user:12").
func ParseList(r io.Reader, source string) ([]Pair, error) {
	var out []Pair
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		user, pass, ok := strings.Cut(text, ":")
		switch {
		case !ok:
			return nil, lineError(source, line, "want username:password (an empty password is written \"user:\")")
		case user == "":
			return nil, lineError(source, line, "the username is empty")
		case len(user) > maxFieldLen || len(pass) > maxFieldLen:
			return nil, lineError(source, line, fmt.Sprintf("username and password may have at most %d bytes", maxFieldLen))
		case hasControl(user) || hasControl(pass):
			return nil, lineError(source, line, "control characters are not allowed")
		}
		if len(out) == maxPairs {
			return nil, lineError(source, line, fmt.Sprintf("more than %d pairs", maxPairs))
		}
		out = append(out, Pair{Username: user, Password: pass, Source: fmt.Sprintf("%s:%d", source, line)})
	}
	if err := sc.Err(); err != nil {
		return nil, lineError(source, line+1, fmt.Sprintf("cannot read: %v (lines are at most 4096 bytes)", err))
	}
	return out, nil
}

func lineError(source string, line int, msg string) error {
	return &simguard.Error{Code: simguard.EINVALID, Field: "credentials", Message: fmt.Sprintf("%s line %d: %s", source, line, msg)}
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// Merge concatenates lists, keeping the first of duplicate pairs, so a
// user list can extend the shipped one (and reorder it by going first).
func Merge(lists ...[]Pair) []Pair {
	seen := make(map[[2]string]bool)
	var out []Pair
	for _, l := range lists {
		for _, p := range l {
			k := [2]string{p.Username, p.Password}
			if !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
		}
	}
	return out
}
