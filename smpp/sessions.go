package smpp

import (
	"context"
	"time"
)

// register records a bound session unless its account is at MaxBinds.
func (s *Server) register(e *esmeSession, ba *boundAccount) bool {
	limit := ba.acct.MaxBinds
	if limit == 0 {
		limit = s.cfg.DefaultMaxBinds
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := ba.acct.SystemID
	if len(s.bound[id]) >= limit || s.drained {
		return false
	}
	s.bound[id] = append(s.bound[id], e)
	return true
}

func (s *Server) unregister(e *esmeSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.esmes, e)
	ba := e.bound.Load()
	if ba == nil {
		return
	}
	list := s.bound[ba.acct.SystemID]
	for i, x := range list {
		if x == e {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.bound, ba.acct.SystemID)
	} else {
		s.bound[ba.acct.SystemID] = list
	}
}

// gaugeLoop publishes window occupancy once a second, rather than
// moving a gauge twice for every message.
func (s *Server) gaugeLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for _, r := range s.routes {
			n := 0
			for _, u := range r.binds {
				if l := u.cur.Load(); l != nil {
					n += l.occupancy()
				}
			}
			r.load.Set(float64(n))
		}
		n := 0
		s.mu.Lock()
		for e := range s.esmes {
			n += e.l.occupancy()
		}
		s.mu.Unlock()
		s.esmeGauge.Set(float64(n))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
