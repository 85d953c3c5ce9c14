package pdu

// field is one mandatory parameter of a PDU body, in wire order.
type field uint8

const (
	fSystemID field = iota + 1
	fPassword
	fSystemType
	fInterfaceVersion
	fAddrTON
	fAddrNPI
	fAddressRange
	fServiceType
	fSourceTON
	fSourceNPI
	fSourceAddr   // submit_sm, deliver_sm: up to 20 characters
	fSourceAddr64 // data_sm: up to 64 characters
	fDestTON
	fDestNPI
	fDestAddr
	fDestAddr64
	fESMClass
	fProtocolID
	fPriorityFlag
	fScheduleDeliveryTime
	fValidityPeriod
	fRegisteredDelivery
	fReplaceIfPresent
	fDataCoding
	fSMDefaultMsgID
	fShortMessage // sm_length followed by that many octets
	fMessageID
)

type fieldKind uint8

const (
	kUint8   fieldKind = iota + 1
	kCString           // C-Octet String of at most max octets including the NUL
	kTime              // C-Octet String, either empty or exactly 16 characters
	kSM                // sm_length (1 octet) then the message, at most max octets
)

// fieldSpec is what section 4 of the specification says about a field:
// its name, its form, its size limit and the status that answers a fault.
type fieldSpec struct {
	name   string
	kind   fieldKind
	max    int
	status Status
}

var fieldSpecs = [...]fieldSpec{
	fSystemID:             {"system_id", kCString, 16, ESME_RINVSYSID},
	fPassword:             {"password", kCString, 9, ESME_RINVPASWD},
	fSystemType:           {"system_type", kCString, 13, ESME_RINVSYSTYP},
	fInterfaceVersion:     {"interface_version", kUint8, 1, ESME_RINVCMDLEN},
	fAddrTON:              {"addr_ton", kUint8, 1, ESME_RINVCMDLEN},
	fAddrNPI:              {"addr_npi", kUint8, 1, ESME_RINVCMDLEN},
	fAddressRange:         {"address_range", kCString, 41, ESME_RINVCMDLEN},
	fServiceType:          {"service_type", kCString, 6, ESME_RINVSERTYP},
	fSourceTON:            {"source_addr_ton", kUint8, 1, ESME_RINVSRCTON},
	fSourceNPI:            {"source_addr_npi", kUint8, 1, ESME_RINVSRCNPI},
	fSourceAddr:           {"source_addr", kCString, 21, ESME_RINVSRCADR},
	fSourceAddr64:         {"source_addr", kCString, 65, ESME_RINVSRCADR},
	fDestTON:              {"dest_addr_ton", kUint8, 1, ESME_RINVDSTTON},
	fDestNPI:              {"dest_addr_npi", kUint8, 1, ESME_RINVDSTNPI},
	fDestAddr:             {"destination_addr", kCString, 21, ESME_RINVDSTADR},
	fDestAddr64:           {"destination_addr", kCString, 65, ESME_RINVDSTADR},
	fESMClass:             {"esm_class", kUint8, 1, ESME_RINVESMCLASS},
	fProtocolID:           {"protocol_id", kUint8, 1, ESME_RINVCMDLEN},
	fPriorityFlag:         {"priority_flag", kUint8, 1, ESME_RINVPRTFLG},
	fScheduleDeliveryTime: {"schedule_delivery_time", kTime, 17, ESME_RINVSCHED},
	fValidityPeriod:       {"validity_period", kTime, 17, ESME_RINVEXPIRY},
	fRegisteredDelivery:   {"registered_delivery", kUint8, 1, ESME_RINVREGDLVFLG},
	fReplaceIfPresent:     {"replace_if_present_flag", kUint8, 1, ESME_RINVREPFLAG},
	fDataCoding:           {"data_coding", kUint8, 1, ESME_RINVCMDLEN},
	fSMDefaultMsgID:       {"sm_default_msg_id", kUint8, 1, ESME_RINVDFTMSGID},
	fShortMessage:         {"short_message", kSM, 254, ESME_RINVMSGLEN},
	fMessageID:            {"message_id", kCString, 65, ESME_RINVMSGID},
}

// layout is the body of one command: its mandatory fields in order,
// whether TLVs may follow, and whether the body may be absent altogether
// (error responses are sent without one).
type layout struct {
	fields   []field
	tlvs     bool
	optional bool
}

var (
	bindFields = []field{fSystemID, fPassword, fSystemType, fInterfaceVersion, fAddrTON, fAddrNPI, fAddressRange}
	smFields   = []field{fServiceType, fSourceTON, fSourceNPI, fSourceAddr, fDestTON, fDestNPI, fDestAddr,
		fESMClass, fProtocolID, fPriorityFlag, fScheduleDeliveryTime, fValidityPeriod,
		fRegisteredDelivery, fReplaceIfPresent, fDataCoding, fSMDefaultMsgID, fShortMessage}
	dataSMFields = []field{fServiceType, fSourceTON, fSourceNPI, fSourceAddr64, fDestTON, fDestNPI, fDestAddr64,
		fESMClass, fRegisteredDelivery, fDataCoding}
	empty = layout{}
)

// layouts drives Decode and Encode. Commands missing here (query_sm,
// replace_sm, cancel_sm, submit_multi, alert_notification and anything
// unknown) keep their body as raw bytes in PDU.Body.
var layouts = map[CommandID]layout{
	GenericNack:         empty,
	BindReceiver:        {fields: bindFields},
	BindTransmitter:     {fields: bindFields},
	BindTransceiver:     {fields: bindFields},
	BindReceiverResp:    {fields: []field{fSystemID}, tlvs: true, optional: true},
	BindTransmitterResp: {fields: []field{fSystemID}, tlvs: true, optional: true},
	BindTransceiverResp: {fields: []field{fSystemID}, tlvs: true, optional: true},
	Outbind:             {fields: []field{fSystemID, fPassword}},
	Unbind:              empty,
	UnbindResp:          empty,
	EnquireLink:         empty,
	EnquireLinkResp:     empty,
	SubmitSM:            {fields: smFields, tlvs: true},
	DeliverSM:           {fields: smFields, tlvs: true},
	DataSM:              {fields: dataSMFields, tlvs: true},
	// SMPP 3.4 gives submit_sm_resp and deliver_sm_resp no TLVs; SMPP 5.0
	// does, and SMSCs send them, so they are accepted and kept.
	SubmitSMResp:  {fields: []field{fMessageID}, tlvs: true, optional: true},
	DeliverSMResp: {fields: []field{fMessageID}, tlvs: true, optional: true},
	DataSMResp:    {fields: []field{fMessageID}, tlvs: true, optional: true},
}

// HasLayout reports whether this package decodes the body of id field by
// field (otherwise the body is kept raw in PDU.Body).
func HasLayout(id CommandID) bool {
	_, ok := layouts[id]
	return ok
}

// u8 and str return the PDU field a table entry stands for.
func (p *PDU) u8(f field) *uint8 {
	switch f {
	case fInterfaceVersion:
		return &p.InterfaceVersion
	case fAddrTON:
		return &p.AddrTON
	case fAddrNPI:
		return &p.AddrNPI
	case fSourceTON:
		return &p.Source.TON
	case fSourceNPI:
		return &p.Source.NPI
	case fDestTON:
		return &p.Dest.TON
	case fDestNPI:
		return &p.Dest.NPI
	case fESMClass:
		return &p.ESMClass
	case fProtocolID:
		return &p.ProtocolID
	case fPriorityFlag:
		return &p.PriorityFlag
	case fRegisteredDelivery:
		return &p.RegisteredDelivery
	case fReplaceIfPresent:
		return &p.ReplaceIfPresent
	case fDataCoding:
		return &p.DataCoding
	case fSMDefaultMsgID:
		return &p.SMDefaultMsgID
	}
	panic("pdu: no uint8 field for table entry") // a bug in the tables above
}

func (p *PDU) str(f field) *string {
	switch f {
	case fSystemID:
		return &p.SystemID
	case fPassword:
		return &p.Password
	case fSystemType:
		return &p.SystemType
	case fAddressRange:
		return &p.AddressRange
	case fServiceType:
		return &p.ServiceType
	case fSourceAddr, fSourceAddr64:
		return &p.Source.Addr
	case fDestAddr, fDestAddr64:
		return &p.Dest.Addr
	case fScheduleDeliveryTime:
		return &p.ScheduleDeliveryTime
	case fValidityPeriod:
		return &p.ValidityPeriod
	case fMessageID:
		return &p.MessageID
	}
	panic("pdu: no string field for table entry") // a bug in the tables above
}
