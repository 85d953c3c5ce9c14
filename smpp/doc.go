// Package smpp is the SMS firewall: an SMPP 3.4 proxy between customer
// applications (ESMEs) and the operator's SMSCs that lets through only the
// messages each SIM's policy allows.
//
// # Flow
//
// ESMEs bind (transmitter, receiver or transceiver) with a system_id and
// password that the control plane checks against the account's bcrypt
// hash (Authenticator: control.Service in "simguard serve", the API on a
// remote node). The proxy keeps its own transceiver binds to each
// upstream SMSC route, with failover across the route's addresses,
// exponential backoff and enquire_link keepalive; ESME links get
// enquire_link too. When accounts change, AccountsChanged unbinds the
// sessions of accounts that were deleted, disabled or changed, after
// answering what they have in flight.
//
// A submit_sm or data_sm from an ESME (mobile terminated) is decoded into
// a simguard.Request{Kind: KindSMSMT, MSISDN: destination, Peer: source}
// with SMS.Binary and SMS.Silent from Classify, evaluated, limited per SIM
// and per source (token buckets sized by the decision's SMSPerMinute and
// SMSSourcePerMinute), and then forwarded upstream with a sequence number
// of the upstream link; the response comes back under the ESME's sequence
// number with the message ID unchanged. The frame itself is forwarded: only
// its sequence_number is rewritten, so content passes byte for byte.
// Each message the SMSC accepts is metered against the SIM's SMS quota
// (Feedback.AddUsage, batched per SIM off the relay path: see
// usageMeter); the policy refuses messages once the quota is used up.
//
// A deliver_sm or data_sm from the SMSC that is not a receipt (mobile
// originated) is evaluated as Request{Kind: KindSMSMO, MSISDN: source,
// Peer: destination} and delivered to a receiving bind of an account of
// the SIM's tenant whose MOPrefixes match the destination. Delivery
// receipts go to the account that submitted the message (remembered by
// message ID), unchanged.
//
// # I/O
//
// Each link (an ESME's connection, an upstream bind) has one reader
// goroutine. What a reader's input makes the proxy send (relayed
// messages, relayed answers, its own answers) is queued on the links
// concerned and written, in the reader's own goroutine and with one
// write per link, once its input drains (flush.go): no goroutine is
// woken per message, and a burst of input becomes a burst of output. A
// write the socket does not take at once is finished by the link's writer
// goroutine, which may block up to the write deadline without holding up
// any reader; a peer that stops reading is dropped once 8 MiB wait for it.
// Windows are atomic counters (window.go), usage is metered in batches
// off the relay path (usage.go), and gauges are sampled once a second,
// so the relay path takes no channel operation and about four
// allocations per message (its two address strings and its event).
//
// # Nothing is lost
//
// Every request accepted from either side is answered exactly once: with
// the other side's response, or by the proxy when the other side is down
// (ESME_RTHROTTLED: no upstream bound or its window full), when its link
// dies with the request outstanding (ESME_RSYSERR to an ESME: the SMSC may
// or may not have taken the message; ESME_RX_T_APPN to the SMSC, which
// then retries), or when no answer comes within ResponseTimeout (same).
//
// # Denials and their command_status
//
// A denied message is answered with the status below and becomes an event
// ("sms.mt" or "sms.mo") with the decision's reason.
//
//	reason               MT (submit_sm/data_sm)   MO (deliver_sm/data_sm)
//	sim_unknown          ESME_RINVDSTADR  0x0B    ESME_RINVSRCADR 0x0A
//	sim_inactive         ESME_RINVDSTADR  0x0B    ESME_RINVSRCADR 0x0A
//	sim_terminated       ESME_RINVDSTADR  0x0B    ESME_RINVSRCADR 0x0A
//	bad_request          ESME_RINVDSTADR  0x0B    ESME_RINVSRCADR 0x0A
//	sim_suspended        ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//	service_disabled     ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//	outside_window       ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//	imei_missing         ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//	imei_mismatch        ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//	device_model_denied  ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//	device_blocked       ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//	location_denied      ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//	rat_denied           ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//	sms_silent_denied    ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//	sms_peer_denied      ESME_RINVSRCADR  0x0A    ESME_RINVDSTADR 0x0B
//	sms_binary_denied    ESME_RINVESMCLASS 0x43   ESME_RX_P_APPN  0x65
//	quota_exceeded       ESME_RMSGQFUL    0x14    ESME_RX_P_APPN  0x65
//	rate_limited         ESME_RTHROTTLED  0x58    ESME_RTHROTTLED 0x58
//	any other reason     ESME_RSUBMITFAIL 0x45    ESME_RX_P_APPN  0x65
//
// In MT the SIM is the destination and the peer the source, in MO the
// reverse, hence the swapped address errors. A message to a SIM of another
// tenant than the ESME's account (unless the account is the provider's) is
// answered as sim_unknown, so that ESMEs cannot probe other tenants' SIMs.
//
// Failures that are not policy decisions:
//
//	upstream not bound, upstream window full    ESME_RTHROTTLED 0x58
//	upstream link lost or silent with it pending ESME_RSYSERR    0x08
//	no receiving ESME bind for an MO or receipt  ESME_RX_T_APPN  0x64 (to the SMSC)
//	ESME link lost or silent with it pending     ESME_RX_T_APPN  0x64 (to the SMSC)
//	ESME over its window                         ESME_RTHROTTLED 0x58
//	short_message and message_payload both set   ESME_ROPTPARNOTALLWD 0xC1
//	malformed PDU                                the codec's status (see package pdu)
//	query_sm, cancel_sm, replace_sm, submit_multi ESME_RINVCMDID 0x03 (not relayed:
//	      replace_sm and submit_multi would carry content past the filter)
//	bind: unknown system_id or bad password      ESME_RINVPASWD  0x0E
//	bind: account disabled or at MaxBinds,
//	      its upstream not configured, store down ESME_RBINDFAIL  0x0D
//	message on a bind being revoked (account
//	      changed, see AccountsChanged)           ESME_RINVBNDSTS 0x04
//
// # Binary and silent messages
//
// See Classify for what counts as binary (a user data header other than
// concatenation, SIM-specific TP-PID, 8-bit or class 2 data coding, SIM
// toolkit security headers of TS 31.115, application port addressing) and
// silent (TP-PID 0x40). Concatenated text (UDH of IEI 0x00 or 0x08 only,
// text coding) is not binary.
package smpp
