package control

import "sync"

// Topics tell running components that configuration they hold changed:
// "radius.nas" when NAS clients change, "diameter.peers", "smpp.accounts"
// and so on. Policy changes do not go through topics: components hear of
// those from enforce.Policy.Subscribe, with the IDs of the changed SIMs.
type topics struct {
	mu   sync.Mutex
	subs map[string][]func()
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
