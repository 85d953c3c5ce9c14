package scan

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/simguard/simguard"
)

// Queue runs scans in the background for the API: Submit validates a
// request, records the run as queued (with its audit record) and returns
// it at once; the scan runs when one of the scanner's Config.Parallel
// slots is free. At most size scans are accepted and not yet finished;
// more are refused with EUNAVAILABLE rather than piling up.
type Queue struct {
	s    *Scanner
	size int

	mu      sync.Mutex
	ctx     context.Context // set by Run; scans run under it
	closed  bool
	pending int
	wg      sync.WaitGroup
}

// NewQueue makes a queue over s, which must have a Store. size ≤ 0 means
// 16.
func NewQueue(s *Scanner, size int) (*Queue, error) {
	if s.deps.Store == nil {
		return nil, fmt.Errorf("scan queue: the scanner needs a store to record queued runs")
	}
	if size <= 0 {
		size = 16
	}
	return &Queue{s: s, size: size}, nil
}

// Submit validates an operator's request and queues it in a's tenant: it
// is what control.ScanRunner asks of the auditor. The run it returns is
// recorded (status queued, audit record "scan.start" by a); follow it
// with the store's GetScanRun. Targets outside the audit ranges and
// malformed ports fail here with EINVALID, before anything is recorded.
func (q *Queue) Submit(ctx context.Context, a simguard.Actor, in simguard.ScanRequest) (simguard.ScanRun, error) {
	return q.SubmitRequest(ctx, Request{
		TenantID: a.TenantID, Actor: a, Scope: in.Scope, Targets: in.Targets, Group: in.Group,
		Ports: in.Ports, UDP: in.UDP, Credentials: in.Credentials,
	})
}

// SubmitRequest is Submit for a full Request.
func (q *Queue) SubmitRequest(ctx context.Context, req Request) (simguard.ScanRun, error) {
	p, err := q.s.prepare(ctx, req)
	if err != nil {
		return simguard.ScanRun{}, err
	}
	q.mu.Lock()
	switch {
	case q.ctx == nil || q.closed:
		q.mu.Unlock()
		return simguard.ScanRun{}, simguard.Errorf(simguard.EUNAVAILABLE, "the scanner is not running; try again when simguard has started")
	case q.pending >= q.size:
		q.mu.Unlock()
		return simguard.ScanRun{}, simguard.Errorf(simguard.EUNAVAILABLE,
			"%d scans are waiting or running already (scan.queue); try again when one has finished", q.pending)
	}
	q.pending++
	q.wg.Add(1)
	runCtx := q.ctx
	q.mu.Unlock()
	q.s.metrics.queued.Inc()
	run, err := q.s.deps.Store.CreateScanRun(ctx, q.s.newRun(p, simguard.ScanQueued), simguard.Change{Actor: p.req.Actor, Action: "scan.start"})
	if err != nil {
		q.done()
		return simguard.ScanRun{}, fmt.Errorf("record scan run: %w", err)
	}
	go func() {
		defer q.done()
		q.work(runCtx, p, run)
	}()
	return run, nil
}

func (q *Queue) done() {
	q.s.metrics.queued.Dec()
	q.mu.Lock()
	q.pending--
	q.mu.Unlock()
	q.wg.Done()
}

// work waits for a scanner slot and runs one queued scan; shutdown while
// it waits records it as canceled.
func (q *Queue) work(ctx context.Context, p *plan, run simguard.ScanRun) {
	store := q.s.deps.Store
	release, err := q.s.acquire(ctx)
	if err != nil {
		run.Status, run.Error, run.FinishedAt = simguard.ScanCanceled, "simguard stopped before the scan could start", q.s.now()
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := store.FinishScanRun(wctx, run, nil); err != nil {
			q.s.log.Error("scan: record a canceled queued scan", "scan", run.ID, "err", err)
		}
		return
	}
	defer release()
	run.Status, run.StartedAt = simguard.ScanRunning, q.s.now()
	if err := store.StartScanRun(ctx, run.TenantID, run.ID, run.StartedAt); err != nil {
		q.s.log.Error("scan: mark a queued scan running", "scan", run.ID, "err", err)
		return
	}
	if _, err := q.s.runRecorded(ctx, p, run); err != nil && ctx.Err() == nil {
		q.s.log.Error("scan: queued scan failed", "scan", run.ID, "err", err)
	}
}

// Run accepts scans until ctx ends, then waits for every accepted scan to
// stop (running ones are recorded as canceled) and returns nil.
func (q *Queue) Run(ctx context.Context) error {
	q.mu.Lock()
	q.ctx = ctx
	q.mu.Unlock()
	<-ctx.Done()
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wg.Wait()
	return nil
}
