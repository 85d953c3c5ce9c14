package control

import (
	"context"
	"crypto/ed25519"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/audit"
)

// FindAudit lists audit records of the caller's tenant. Every role may read
// them; nobody may change them through simguard.
func (s *Service) FindAudit(ctx context.Context, f simguard.AuditFilter) ([]simguard.AuditRecord, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	f.TenantID = a.TenantID
	return s.store.FindAudit(ctx, f)
}

// VerifyAudit checks the whole chain and its signed checkpoints. The report
// names records by sequence number only, so it reveals nothing of other
// tenants' changes.
func (s *Service) VerifyAudit(ctx context.Context, pub ed25519.PublicKey) (audit.Report, error) {
	if _, err := reader(ctx); err != nil {
		return audit.Report{}, err
	}
	return audit.Verify(ctx, s.store, pub)
}

// RunCheckpoints signs the head of the audit chain every interval (when it
// moved) until ctx ends, and once more on the way out.
func (s *Service) RunCheckpoints(ctx context.Context, signer *audit.Signer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	sign := func(ctx context.Context) {
		if _, err := audit.Checkpoint(ctx, s.store, signer, s.now()); err != nil {
			s.log.Error("signing an audit checkpoint failed", "err", err)
		}
	}
	sign(ctx)
	for {
		select {
		case <-t.C:
			sign(ctx)
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			sign(final)
			cancel()
			return
		}
	}
}

// FindEvents queries the caller's tenant's events.
func (s *Service) FindEvents(ctx context.Context, f simguard.EventFilter) ([]simguard.Event, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	f.TenantID = a.TenantID
	return s.store.FindEvents(ctx, f)
}

// Check explains what the policy would decide for r, as of r.Time (now if
// unset). SIMs of other tenants are invisible: they read as unknown.
func (s *Service) Check(ctx context.Context, r simguard.Request) (simguard.Explanation, error) {
	a, err := reader(ctx)
	if err != nil {
		return simguard.Explanation{}, err
	}
	if r.Kind == 0 {
		return simguard.Explanation{}, simguard.FieldError("kind", "say what is asked: data_session, sms_mo, sms_mt, attach, imei_check or flow")
	}
	if r.Time.IsZero() {
		r.Time = s.now()
	}
	snap := s.policy.Snapshot()
	ex := snap.Explain(&r)
	if ex.Decision.SIMID != 0 && ex.Decision.TenantID != a.TenantID {
		return simguard.Explanation{
			Decision: simguard.Decision{Reason: simguard.ReasonSIMUnknown, Rule: "sim:identity"},
			Steps:    []simguard.Step{{Check: "identity", Result: "fail", Detail: "no SIM with that identity in this tenant"}},
		}, nil
	}
	return ex, nil
}
