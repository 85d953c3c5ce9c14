package simguard

import "context"

// Evaluator answers requests from the current policy. The policy snapshot
// implements it; enforcement points hold one through an atomic pointer.
type Evaluator interface {
	Evaluate(r *Request) Decision
}

// Feedback is how enforcement points report what they learned back to the
// control plane: as writes (audit-logged where they change a SIM), never
// as mutations of the snapshot they read.
type Feedback interface {
	// LearnIMEI binds imei to the SIM (learn mode or open re-pairing window).
	LearnIMEI(ctx context.Context, simID int64, imei, source string) error
	// ReportIMEIMismatch records that another device than the bound one was
	// seen, so that the lock's state shows it and SMS follows the lock.
	ReportIMEIMismatch(ctx context.Context, simID int64, imei, source string) error
	// AddUsage meters data bytes and messages against the SIM's quota.
	AddUsage(ctx context.Context, simID int64, dataBytes, smsCount int64) error
}
