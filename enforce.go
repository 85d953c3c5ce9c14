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

// SIMUsage is usage to meter against one SIM.
type SIMUsage struct {
	SIMID     int64
	DataBytes int64
	SMSCount  int64
}

// BatchFeedback is a Feedback that can also meter many SIMs at once. The
// SMS firewall meters every message it delivers; when its Feedback
// implements this (control.Service does) a batch costs one store
// transaction instead of one per SIM.
type BatchFeedback interface {
	// AddUsageBatch does what Feedback.AddUsage does for each element.
	AddUsageBatch(ctx context.Context, usage []SIMUsage) error
}
