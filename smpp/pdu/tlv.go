package pdu

import (
	"encoding/binary"
	"fmt"
)

// Tag is the tag of an optional parameter (TLV).
type Tag uint16

// TLV tags of SMPP 3.4 (section 5.3.2).
const (
	TagDestAddrSubunit          Tag = 0x0005
	TagDestNetworkType          Tag = 0x0006
	TagDestBearerType           Tag = 0x0007
	TagDestTelematicsID         Tag = 0x0008
	TagSourceAddrSubunit        Tag = 0x000D
	TagSourceNetworkType        Tag = 0x000E
	TagSourceBearerType         Tag = 0x000F
	TagSourceTelematicsID       Tag = 0x0010
	TagQosTimeToLive            Tag = 0x0017
	TagPayloadType              Tag = 0x0019
	TagAdditionalStatusInfoText Tag = 0x001D
	TagReceiptedMessageID       Tag = 0x001E
	TagMsMsgWaitFacilities      Tag = 0x0030
	TagPrivacyIndicator         Tag = 0x0201
	TagSourceSubaddress         Tag = 0x0202
	TagDestSubaddress           Tag = 0x0203
	TagUserMessageReference     Tag = 0x0204
	TagUserResponseCode         Tag = 0x0205
	TagSourcePort               Tag = 0x020A
	TagDestinationPort          Tag = 0x020B
	TagSarMsgRefNum             Tag = 0x020C
	TagLanguageIndicator        Tag = 0x020D
	TagSarTotalSegments         Tag = 0x020E
	TagSarSegmentSeqnum         Tag = 0x020F
	TagSCInterfaceVersion       Tag = 0x0210
	TagCallbackNumPresInd       Tag = 0x0302
	TagCallbackNumAtag          Tag = 0x0303
	TagNumberOfMessages         Tag = 0x0304
	TagCallbackNum              Tag = 0x0381
	TagDpfResult                Tag = 0x0420
	TagSetDpf                   Tag = 0x0421
	TagMsAvailabilityStatus     Tag = 0x0422
	TagNetworkErrorCode         Tag = 0x0423
	TagMessagePayload           Tag = 0x0424
	TagDeliveryFailureReason    Tag = 0x0425
	TagMoreMessagesToSend       Tag = 0x0426
	TagMessageState             Tag = 0x0427
	TagUssdServiceOp            Tag = 0x0501
	TagDisplayTime              Tag = 0x1201
	TagSmsSignal                Tag = 0x1203
	TagMsValidity               Tag = 0x1204
	TagAlertOnMessageDelivery   Tag = 0x130C
	TagItsReplyType             Tag = 0x1380
	TagItsSessionInfo           Tag = 0x1383
)

// tagSpec is what the specification says about a known tag's value. Tags
// not in the table are carried without any check.
type tagSpec struct {
	name    string
	min     int  // shortest value
	max     int  // longest value; -1: no limit but the frame
	cstring bool // the value is a C-Octet String (ends in NUL)
}

var tagSpecs = map[Tag]tagSpec{
	TagDestAddrSubunit:          {"dest_addr_subunit", 1, 1, false},
	TagDestNetworkType:          {"dest_network_type", 1, 1, false},
	TagDestBearerType:           {"dest_bearer_type", 1, 1, false},
	TagDestTelematicsID:         {"dest_telematics_id", 2, 2, false},
	TagSourceAddrSubunit:        {"source_addr_subunit", 1, 1, false},
	TagSourceNetworkType:        {"source_network_type", 1, 1, false},
	TagSourceBearerType:         {"source_bearer_type", 1, 1, false},
	TagSourceTelematicsID:       {"source_telematics_id", 1, 2, false},
	TagQosTimeToLive:            {"qos_time_to_live", 4, 4, false},
	TagPayloadType:              {"payload_type", 1, 1, false},
	TagAdditionalStatusInfoText: {"additional_status_info_text", 1, 256, true},
	TagReceiptedMessageID:       {"receipted_message_id", 1, 65, true},
	TagMsMsgWaitFacilities:      {"ms_msg_wait_facilities", 1, 1, false},
	TagPrivacyIndicator:         {"privacy_indicator", 1, 1, false},
	TagSourceSubaddress:         {"source_subaddress", 2, 23, false},
	TagDestSubaddress:           {"dest_subaddress", 2, 23, false},
	TagUserMessageReference:     {"user_message_reference", 2, 2, false},
	TagUserResponseCode:         {"user_response_code", 1, 1, false},
	TagSourcePort:               {"source_port", 2, 2, false},
	TagDestinationPort:          {"destination_port", 2, 2, false},
	TagSarMsgRefNum:             {"sar_msg_ref_num", 2, 2, false},
	TagLanguageIndicator:        {"language_indicator", 1, 1, false},
	TagSarTotalSegments:         {"sar_total_segments", 1, 1, false},
	TagSarSegmentSeqnum:         {"sar_segment_seqnum", 1, 1, false},
	TagSCInterfaceVersion:       {"sc_interface_version", 1, 1, false},
	TagCallbackNumPresInd:       {"callback_num_pres_ind", 1, 1, false},
	TagCallbackNumAtag:          {"callback_num_atag", 0, 65, false},
	TagNumberOfMessages:         {"number_of_messages", 1, 1, false},
	TagCallbackNum:              {"callback_num", 4, 19, false},
	TagDpfResult:                {"dpf_result", 1, 1, false},
	TagSetDpf:                   {"set_dpf", 1, 1, false},
	TagMsAvailabilityStatus:     {"ms_availability_status", 1, 1, false},
	TagNetworkErrorCode:         {"network_error_code", 3, 3, false},
	TagMessagePayload:           {"message_payload", 0, -1, false},
	TagDeliveryFailureReason:    {"delivery_failure_reason", 1, 1, false},
	TagMoreMessagesToSend:       {"more_messages_to_send", 1, 1, false},
	TagMessageState:             {"message_state", 1, 1, false},
	TagUssdServiceOp:            {"ussd_service_op", 1, 1, false},
	TagDisplayTime:              {"display_time", 1, 1, false},
	TagSmsSignal:                {"sms_signal", 2, 2, false},
	TagMsValidity:               {"ms_validity", 1, 1, false},
	TagAlertOnMessageDelivery:   {"alert_on_message_delivery", 0, 1, false},
	TagItsReplyType:             {"its_reply_type", 1, 1, false},
	TagItsSessionInfo:           {"its_session_info", 2, 2, false},
}

// String returns the specification's name of a known tag.
func (t Tag) String() string {
	if s, ok := tagSpecs[t]; ok {
		return s.name
	}
	return fmt.Sprintf("tag_0x%04x", uint16(t))
}

// TLV is one optional parameter. Value aliases the decoded frame.
type TLV struct {
	Tag   Tag
	Value []byte
}

// check validates a known tag's value length and form.
func (t TLV) check() error {
	s, ok := tagSpecs[t.Tag]
	if !ok {
		return nil
	}
	if len(t.Value) < s.min || (s.max >= 0 && len(t.Value) > s.max) {
		if s.min == s.max {
			return &Error{Status: ESME_RINVPARLEN, Field: s.name, Msg: fmt.Sprintf("length %d, want %d", len(t.Value), s.min)}
		}
		return &Error{Status: ESME_RINVPARLEN, Field: s.name, Msg: fmt.Sprintf("length %d, want %d to %d", len(t.Value), s.min, s.max)}
	}
	if s.cstring {
		for i, c := range t.Value {
			if c == 0 && i != len(t.Value)-1 {
				return &Error{Status: ESME_RINVOPTPARAMVAL, Field: s.name, Msg: "NUL inside the string"}
			}
		}
		if t.Value[len(t.Value)-1] != 0 {
			return &Error{Status: ESME_RINVOPTPARAMVAL, Field: s.name, Msg: "string does not end in NUL"}
		}
	}
	return nil
}

// TLV returns the value of the first TLV with tag t.
func (p *PDU) TLV(t Tag) ([]byte, bool) {
	for i := range p.TLVs {
		if p.TLVs[i].Tag == t {
			return p.TLVs[i].Value, true
		}
	}
	return nil, false
}

// TLVUint returns the big-endian value of a 1, 2 or 4 byte TLV.
func (p *PDU) TLVUint(t Tag) (uint32, bool) {
	v, ok := p.TLV(t)
	if !ok {
		return 0, false
	}
	switch len(v) {
	case 1:
		return uint32(v[0]), true
	case 2:
		return uint32(binary.BigEndian.Uint16(v)), true
	case 4:
		return binary.BigEndian.Uint32(v), true
	}
	return 0, false
}

// TLVString returns a C-Octet String TLV without its NUL.
func (p *PDU) TLVString(t Tag) (string, bool) {
	v, ok := p.TLV(t)
	if !ok {
		return "", false
	}
	if n := len(v); n > 0 && v[n-1] == 0 {
		v = v[:n-1]
	}
	return string(v), true
}

// SetTLV appends a TLV; it does not replace an existing one with the same tag.
func (p *PDU) SetTLV(t Tag, v []byte) { p.TLVs = append(p.TLVs, TLV{Tag: t, Value: v}) }

// Uint8TLV, Uint16TLV and CStringTLV build the common value forms.
func Uint8TLV(t Tag, v uint8) TLV { return TLV{Tag: t, Value: []byte{v}} }

// Uint16TLV builds a 2-byte big-endian TLV.
func Uint16TLV(t Tag, v uint16) TLV { return TLV{Tag: t, Value: binary.BigEndian.AppendUint16(nil, v)} }

// CStringTLV builds a NUL-terminated string TLV.
func CStringTLV(t Tag, s string) TLV { return TLV{Tag: t, Value: append([]byte(s), 0)} }
