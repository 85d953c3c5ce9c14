// Package enforce is what every enforcement point shares: the current
// policy snapshot behind an atomic pointer, the batching event writer that
// carries decisions into the durable event log, and the fan-out of events
// and snapshot changes to whoever listens (detection, live disconnect,
// the gateway, the console).
//
// Enforcement never waits on the database: it reads the snapshot it holds
// and hands events to a buffer. Writes that enforcement learns (an IMEI
// bound on first attach, usage) go to the control plane through
// simguard.Feedback.
package enforce
