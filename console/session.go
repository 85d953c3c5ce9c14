package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"github.com/simguard/simguard"
)

// session is one logged-in browser. It holds the hash of the token it was
// opened with, never the token: the token is re-checked by its hash on
// every request, so revoking it ends the session.
type session struct {
	tokenHash string
	actor     simguard.Actor
	csrf      string
	created   time.Time
	seen      time.Time
	// flash is a one-shot message for the page after a redirect.
	flash    string
	flashBad bool
}

// sessions keeps sessions in memory, keyed by the SHA-256 of their ID so
// that a dump of the map does not hand out live cookies. A restart logs
// everyone out, which is the safe direction.
type sessions struct {
	mu   sync.Mutex
	m    map[[32]byte]*session
	ttl  time.Duration // absolute lifetime
	idle time.Duration // lifetime without a request
	max  int
	now  func() time.Time
}

func newSessions(ttl, idle time.Duration, max int, now func() time.Time) *sessions {
	return &sessions{m: map[[32]byte]*session{}, ttl: ttl, idle: idle, max: max, now: now}
}

// errTooManySessions refuses a login when the table is full of live
// sessions; expired ones are dropped first.
var errTooManySessions = simguard.Errorf(simguard.EUNAVAILABLE, "too many console sessions are open; try again later or ask an admin to lower console.session_ttl")

// create opens a session and returns its ID (the cookie value) and its
// CSRF token.
func (s *sessions) create(tokenHash string, a simguard.Actor) (id, csrf string, err error) {
	id, csrf = randomToken(), randomToken()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		s.pruneLocked(now)
		if len(s.m) >= s.max {
			return "", "", errTooManySessions
		}
	}
	s.m[sha256.Sum256([]byte(id))] = &session{tokenHash: tokenHash, actor: a, csrf: csrf, created: now, seen: now}
	return id, csrf, nil
}

// get returns a copy of the live session with that ID. With touch it
// also marks the session seen; background polls do not, so that an
// overview left open does not keep an idle session alive.
func (s *sessions) get(id string, touch bool) (session, bool) {
	if id == "" || len(id) > 100 {
		return session{}, false
	}
	key := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[key]
	if !ok {
		return session{}, false
	}
	if s.expired(sess, now) {
		delete(s.m, key)
		return session{}, false
	}
	if touch {
		sess.seen = now
	}
	return *sess, true
}

// update changes a live session in place (the actor after re-checking
// the token, the flash message).
func (s *sessions) update(id string, fn func(*session)) {
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.m[key]; ok {
		fn(sess)
	}
}

// takeFlash returns the session's flash message and clears it.
func (s *sessions) takeFlash(id string) (msg string, bad bool) {
	s.update(id, func(sess *session) {
		msg, bad = sess.flash, sess.flashBad
		sess.flash, sess.flashBad = "", false
	})
	return msg, bad
}

func (s *sessions) delete(id string) {
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}

// prune drops expired sessions and returns how many are left.
func (s *sessions) prune() int {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	return len(s.m)
}

func (s *sessions) pruneLocked(now time.Time) {
	for k, sess := range s.m {
		if s.expired(sess, now) {
			delete(s.m, k)
		}
	}
}

func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func (s *sessions) expired(sess *session, now time.Time) bool {
	return now.Sub(sess.created) >= s.ttl || now.Sub(sess.seen) >= s.idle
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms (crypto/rand docs)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sameToken compares secrets in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
