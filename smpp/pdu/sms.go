package pdu

import (
	"bytes"
	"fmt"
)

// esm_class bits (section 5.2.12).
const (
	ESMTypeMask             = 0x3C // message type, bits 5..2
	ESMDeliveryReceipt      = 0x04 // SMSC delivery receipt
	ESMDeliveryAck          = 0x08 // SME delivery acknowledgement
	ESMUserAck              = 0x10 // SME manual/user acknowledgement
	ESMConversationAbort    = 0x18
	ESMIntermediateDelivery = 0x20 // intermediate delivery notification
	ESMUDHI                 = 0x40 // user data header indicator
	ESMReplyPath            = 0x80
)

// IsReceipt reports whether a deliver_sm or data_sm from an SMSC carries a
// receipt or an acknowledgement rather than a message from a device: its
// esm_class message type is not the default.
func (p *PDU) IsReceipt() bool {
	return (p.ID == DeliverSM || p.ID == DataSM) && p.ESMClass&ESMTypeMask != 0
}

// UserData returns the message content: message_payload when present
// (data_sm has no short_message; submit_sm may use either), else
// short_message. The second result is false when both carry content, which
// the specification forbids and a filter must not guess about.
func (p *PDU) UserData() ([]byte, bool) {
	if v, ok := p.TLV(TagMessagePayload); ok {
		return v, len(p.ShortMessage) == 0
	}
	return p.ShortMessage, true
}

// WalkUDH calls fn for each information element of the user data header
// at the start of ud (TS 23.040 9.2.3.24) until fn returns false. It
// returns an error when the header's lengths do not fit in ud.
func WalkUDH(ud []byte, fn func(iei byte, data []byte) bool) error {
	if len(ud) == 0 {
		return fmt.Errorf("user data header: empty user data")
	}
	n := int(ud[0])
	if n+1 > len(ud) {
		return fmt.Errorf("user data header: UDHL %d runs past %d octets of user data", n, len(ud)-1)
	}
	h := ud[1 : 1+n]
	for len(h) > 0 {
		if len(h) < 2 {
			return fmt.Errorf("user data header: element header cut short")
		}
		iei, l := h[0], int(h[1])
		if l+2 > len(h) {
			return fmt.Errorf("user data header: element 0x%02x of length %d runs past the header", iei, l)
		}
		if !fn(iei, h[2:2+l]) {
			return nil
		}
		h = h[2+l:]
	}
	return nil
}

// ReceiptedMessageID returns the SMSC message ID a delivery receipt is
// about: the receipted_message_id TLV, or else the "id:" field of the
// receipt text format of SMPP 3.4 appendix B.
func (p *PDU) ReceiptedMessageID() (string, bool) {
	if id, ok := p.TLVString(TagReceiptedMessageID); ok && id != "" {
		return id, true
	}
	ud, _ := p.UserData()
	i := bytes.Index(ud, []byte("id:"))
	if i < 0 || (i > 0 && ud[i-1] != ' ') {
		return "", false
	}
	v := ud[i+3:]
	if j := bytes.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	if len(v) == 0 || len(v) > 64 {
		return "", false
	}
	return string(v), true
}

// Resp builds the response to request p with the given status. Error
// responses to submit_sm and bind_* go without a body, as section 4
// prescribes; deliver_sm_resp and data_sm_resp keep their (empty)
// message_id. A request without a response of its own gets generic_nack.
func (p *PDU) Resp(status Status) PDU {
	r := PDU{ID: p.ID.Resp(), Status: status, Seq: p.Seq}
	if !p.ID.HasResp() {
		r.ID = GenericNack
		return r
	}
	if !HasLayout(r.ID) {
		// query_sm_resp and friends: this package does not build their
		// bodies, and an error answer needs none.
		r.NoBody = true
		return r
	}
	if status != ESME_ROK && (r.ID == SubmitSMResp || r.ID.IsBind() || p.ID.IsBind()) {
		r.NoBody = true
	}
	return r
}
