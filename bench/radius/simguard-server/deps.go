package main

import (
	"context"
	"time"

	"github.com/simguard/simguard"
)

// The bench runs Access-Requests only: accounting and feedback stores are
// never written; they exist to satisfy the server's dependencies.

type nopFeedback struct{}

func (nopFeedback) LearnIMEI(context.Context, int64, string, string) error          { return nil }
func (nopFeedback) ReportIMEIMismatch(context.Context, int64, string, string) error { return nil }
func (nopFeedback) AddUsage(context.Context, int64, int64, int64) error             { return nil }

type nopSessions struct{}

func (nopSessions) LiveSession(context.Context, string, string) (simguard.RADIUSSession, error) {
	return simguard.RADIUSSession{}, simguard.Errorf(simguard.ENOTFOUND, "none")
}
func (nopSessions) LastSession(context.Context, string, string) (simguard.RADIUSSession, error) {
	return simguard.RADIUSSession{}, simguard.Errorf(simguard.ENOTFOUND, "none")
}
func (nopSessions) SaveSession(context.Context, *simguard.RADIUSSession) error { return nil }
func (nopSessions) SetSessionDisconnect(context.Context, int64, simguard.RADIUSDisconnect) error {
	return nil
}
func (nopSessions) StopNASSessions(context.Context, string, time.Time, string) (int64, error) {
	return 0, nil
}
func (nopSessions) ListSessions(context.Context, simguard.RADIUSSessionFilter) ([]simguard.RADIUSSession, error) {
	return nil, nil
}

// asyncSink hands events to a goroutine through a buffered channel, as
// the enforce package's batching sink does; the goroutine counts them.
type asyncSink struct{ ch chan simguard.Event }

func newAsyncSink() *asyncSink {
	s := &asyncSink{ch: make(chan simguard.Event, 65536)}
	go func() {
		n := 0
		for range s.ch {
			n++
		}
	}()
	return s
}

func (s *asyncSink) Emit(e simguard.Event) {
	select {
	case s.ch <- e:
	default: // a full buffer drops, as a batching sink under overload would
	}
}
