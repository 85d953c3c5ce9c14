package control

import (
	"sync"

	"github.com/simguard/simguard"
)

// Topics tell running components that configuration they hold changed:
// "radius.nas" when NAS clients change, "diameter.peers", "smpp.accounts"
// and so on. Policy changes do not go through topics: components hear of
// those from enforce.Policy.Subscribe, with the IDs of the changed SIMs.
type topics struct {
	mu   sync.Mutex
	subs map[string][]func()
	// nodeEvents hear of the events remote nodes sent, once stored.
	nodeEvents []func([]simguard.Event)
}

// OnTopic calls fn (in its own goroutine) whenever topic is published.
func (s *Service) OnTopic(topic string, fn func()) {
	s.topics.mu.Lock()
	defer s.topics.mu.Unlock()
	if s.topics.subs == nil {
		s.topics.subs = map[string][]func(){}
	}
	s.topics.subs[topic] = append(s.topics.subs[topic], fn)
}

// Publish tells the subscribers of topic that it changed. Service methods
// call it after a committed change.
func (s *Service) Publish(topic string) {
	s.topics.mu.Lock()
	fns := append([]func(){}, s.topics.subs[topic]...)
	s.topics.mu.Unlock()
	for _, fn := range fns {
		go fn()
	}
}

// OnNodeEvents calls fn with every batch of events a remote enforcement
// node sent, after it is stored, so that detection sees the events of
// nodes as it sees those of the enforcement points running in-process.
// fn runs in the request's goroutine: it must be quick or hand off, and
// must not keep the slice.
func (s *Service) OnNodeEvents(fn func([]simguard.Event)) {
	s.topics.mu.Lock()
	defer s.topics.mu.Unlock()
	s.topics.nodeEvents = append(s.topics.nodeEvents, fn)
}

func (s *Service) nodeEventsStored(events []simguard.Event) {
	s.topics.mu.Lock()
	fns := s.topics.nodeEvents
	s.topics.mu.Unlock()
	for _, fn := range fns {
		fn(events)
	}
}
