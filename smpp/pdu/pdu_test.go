package pdu

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readGolden reads an annotated hex file: '#' starts a comment, hex pairs
// are separated by white space.
func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var goldens = []struct {
	name string
	want PDU
}{
	{"bind_transmitter", PDU{ID: BindTransmitter, Seq: 1, SystemID: "SMPP3TEST", Password: "secret08", SystemType: "SUBMIT1", InterfaceVersion: 0x34, AddrTON: 1, AddrNPI: 1}},
	{"bind_receiver", PDU{ID: BindReceiver, Seq: 2, SystemID: "esme1", Password: "pw", InterfaceVersion: 0x34, AddressRange: "^4917"}},
	{"bind_transceiver", PDU{ID: BindTransceiver, Seq: 3, SystemID: "esme1", Password: "pw", InterfaceVersion: 0x34}},
	{"bind_transceiver_resp", PDU{ID: BindTransceiverResp, Seq: 3, SystemID: "simguard", TLVs: []TLV{{TagSCInterfaceVersion, []byte{0x34}}}}},
	{"bind_transmitter_resp_error", PDU{ID: BindTransmitterResp, Status: ESME_RINVPASWD, Seq: 1, NoBody: true}},
	{"outbind", PDU{ID: Outbind, Seq: 7, SystemID: "smsc", Password: "pw"}},
	{"unbind", PDU{ID: Unbind, Seq: 9}},
	{"unbind_resp", PDU{ID: UnbindResp, Seq: 9}},
	{"enquire_link", PDU{ID: EnquireLink, Seq: 10}},
	{"enquire_link_resp", PDU{ID: EnquireLinkResp, Seq: 10}},
	{"generic_nack", PDU{ID: GenericNack, Status: ESME_RINVCMDID, Seq: 11}},
	{"submit_sm_text", PDU{ID: SubmitSM, Seq: 20, Source: Address{5, 0, "SIMGUARD"}, Dest: Address{1, 1, "491701234567"},
		RegisteredDelivery: 1, ShortMessage: []byte("Hello meter 7")}},
	{"submit_sm_ota", PDU{ID: SubmitSM, Seq: 21, Source: Address{1, 1, "4915100000"}, Dest: Address{1, 1, "491701234567"},
		ESMClass: 0x40, ProtocolID: 0x7f, ValidityPeriod: "000001000000000R", DataCoding: 0xf6,
		ShortMessage: mustHex("027000" + "00150d00000000505348000000000000a0a40000023f00")}},
	{"submit_sm_payload", PDU{ID: SubmitSM, Seq: 22, ServiceType: "CMT", Source: Address{1, 1, "4930123456"}, Dest: Address{1, 1, "491701234567"},
		PriorityFlag: 1, ScheduleDeliveryTime: "231224103000000+", RegisteredDelivery: 0x11, DataCoding: 0x08, ShortMessage: []byte{},
		TLVs: []TLV{
			{TagMessagePayload, mustHex("00480069")},
			{TagSarMsgRefNum, []byte{0x12, 0x34}},
			{TagSarTotalSegments, []byte{2}},
			{TagSarSegmentSeqnum, []byte{1}},
			{TagUserMessageReference, []byte{0, 7}},
			{0x1400, []byte{1, 2, 3}},
		}}},
	{"submit_sm_resp", PDU{ID: SubmitSMResp, Seq: 20, MessageID: "5f1d3c0a"}},
	{"submit_sm_resp_error", PDU{ID: SubmitSMResp, Status: ESME_RTHROTTLED, Seq: 21, NoBody: true}},
	{"deliver_sm_receipt", PDU{ID: DeliverSM, Seq: 30, Source: Address{1, 1, "491701234567"}, Dest: Address{5, 0, "SIMGUARD"}, ESMClass: 0x04,
		ShortMessage: []byte("id:5f1d3c0a sub:001 dlvrd:001 submit date:2312241030 done date:2312241031 stat:DELIVRD err:000 text:Hello meter 7"),
		TLVs:         []TLV{{TagReceiptedMessageID, []byte("5f1d3c0a\x00")}, {TagMessageState, []byte{2}}}}},
	{"deliver_sm_mo", PDU{ID: DeliverSM, Seq: 31, Source: Address{1, 1, "491701234567"}, Dest: Address{0, 0, "8888"}, ShortMessage: []byte("TEMP 21.5C")}},
	{"deliver_sm_resp", PDU{ID: DeliverSMResp, Seq: 30}},
	{"data_sm", PDU{ID: DataSM, Seq: 40, Source: Address{1, 1, "4930123456"}, Dest: Address{1, 1, "491701234567"}, RegisteredDelivery: 1,
		TLVs: []TLV{{TagMessagePayload, []byte("wake up")}, {TagUserMessageReference, []byte{2, 1}}}}},
	{"data_sm_resp", PDU{ID: DataSMResp, Seq: 40, MessageID: "a1"}},
	{"query_sm", PDU{ID: QuerySM, Seq: 50, Body: []byte("a1\x00\x00\x00\x00")}},
}

// equalPDU compares two PDUs, treating nil and empty byte slices alike.
func equalPDU(a, b *PDU) bool {
	norm := func(p PDU) PDU {
		if len(p.ShortMessage) == 0 {
			p.ShortMessage = nil
		}
		if len(p.TLVs) == 0 {
			p.TLVs = nil
		}
		if len(p.Body) == 0 {
			p.Body = nil
		}
		return p
	}
	return reflect.DeepEqual(norm(*a), norm(*b))
}

func TestGoldenDecode(t *testing.T) {
	for _, tc := range goldens {
		t.Run(tc.name, func(t *testing.T) {
			frame := readGolden(t, tc.name)
			got, err := Decode(frame)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !equalPDU(got, &tc.want) {
				t.Errorf("decode:\n got %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestGoldenEncode(t *testing.T) {
	for _, tc := range goldens {
		t.Run(tc.name, func(t *testing.T) {
			want := readGolden(t, tc.name)
			got, err := tc.want.Encode()
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("encode:\n got %x\nwant %x", got, want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	text := readGolden(t, "submit_sm_text")
	with := func(f func([]byte) []byte) []byte { return f(bytes.Clone(text)) }
	// A submit_sm whose header length is fixed up after the body changes.
	frame := func(id CommandID, body []byte) []byte {
		p := PDU{ID: id, Body: body}
		b, _ := (&PDU{ID: QuerySM, Body: body}).Encode() // raw body encoder
		SetSeq(b, 1)
		b[4], b[5], b[6], b[7] = byte(p.ID>>24), byte(p.ID>>16), byte(p.ID>>8), byte(p.ID)
		return b
	}
	tests := []struct {
		name   string
		frame  []byte
		status Status
		field  string
	}{
		{"short header", text[:10], ESME_RINVCMDLEN, "command_length"},
		{"length below header", with(func(b []byte) []byte { b[3] = 8; return b }), ESME_RINVCMDLEN, "command_length"},
		{"length disagrees with frame", with(func(b []byte) []byte { b[3]++; return b }), ESME_RINVCMDLEN, "command_length"},
		{"enquire_link with a body", frame(EnquireLink, []byte{0}), ESME_RINVCMDLEN, ""},
		{"bind without NUL", frame(BindTransmitter, []byte("abc")), ESME_RINVCMDLEN, "system_id"},
		{"system_id too long", frame(BindTransmitter, []byte("0123456789abcdef\x00pw\x00\x00\x34\x00\x00\x00")), ESME_RINVSYSID, "system_id"},
		{"system_id too long, no NUL", frame(BindTransmitter, []byte("0123456789abcdefXXXX")), ESME_RINVSYSID, "system_id"},
		{"password too long", frame(BindTransmitter, []byte("id\x00123456789\x00\x00\x34\x00\x00\x00")), ESME_RINVPASWD, "password"},
		{"bind cut after version", frame(BindTransmitter, []byte("id\x00pw\x00\x00\x34")), ESME_RINVCMDLEN, "addr_ton"},
		{"bind with trailing octets", frame(BindTransmitter, []byte("id\x00pw\x00\x00\x34\x00\x00\x00\x01")), ESME_RINVCMDLEN, ""},
		{"source_addr too long", frame(SubmitSM, []byte("\x00\x01\x01012345678901234567890\x00")), ESME_RINVSRCADR, "source_addr"},
		{"validity of 5 characters", frame(SubmitSM, []byte("\x00\x00\x00a\x00\x00\x00b\x00\x00\x00\x00\x00abcde\x00")), ESME_RINVEXPIRY, "validity_period"},
		{"sm_length past the end", frame(SubmitSM, []byte("\x00\x00\x00a\x00\x00\x00b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05ab")), ESME_RINVMSGLEN, "sm_length"},
		{"sm_length 255", frame(SubmitSM, append([]byte("\x00\x00\x00a\x00\x00\x00b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff"), make([]byte, 255)...)), ESME_RINVMSGLEN, "sm_length"},
		{"TLV header cut", with(func(b []byte) []byte { b = append(b, 0x04, 0x24, 0x00); b[3] += 3; return b }), ESME_RINVOPTPARSTREAM, ""},
		{"TLV value cut", with(func(b []byte) []byte { b = append(b, 0x04, 0x24, 0x00, 0x09, 'x'); b[3] += 5; return b }), ESME_RINVOPTPARSTREAM, "message_payload"},
		{"sar_msg_ref_num of 3 octets", with(func(b []byte) []byte { b = append(b, 0x02, 0x0c, 0x00, 0x03, 1, 2, 3); b[3] += 7; return b }), ESME_RINVPARLEN, "sar_msg_ref_num"},
		{"receipted_message_id without NUL", with(func(b []byte) []byte { b = append(b, 0x00, 0x1e, 0x00, 0x02, 'a', 'b'); b[3] += 6; return b }), ESME_RINVOPTPARAMVAL, "receipted_message_id"},
		{"TLV on a bind", frame(BindTransmitter, []byte("id\x00pw\x00\x00\x34\x00\x00\x00\x02\x10\x00\x01\x34")), ESME_RINVCMDLEN, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.frame)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want a *pdu.Error", err)
			}
			if e.Status != tc.status || e.Field != tc.field {
				t.Errorf("got status %s field %q (%v), want %s field %q", e.Status, e.Field, err, tc.status, tc.field)
			}
		})
	}
}

func TestDecodeKeepsHeaderOnBodyError(t *testing.T) {
	b, _ := (&PDU{ID: QuerySM, Seq: 77, Body: []byte("x")}).Encode()
	b[7] = byte(SubmitSM)
	p, err := Decode(b)
	if err == nil {
		t.Fatal("want an error")
	}
	if p.ID != SubmitSM || p.Seq != 77 {
		t.Errorf("header lost: id %s seq %d", p.ID, p.Seq)
	}
	if r := p.Resp(err.(*Error).Status); r.ID != SubmitSMResp || r.Seq != 77 || !r.NoBody {
		t.Errorf("resp %+v", r)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		p      PDU
		status Status
	}{
		{"system_id too long", PDU{ID: BindTransceiver, SystemID: strings.Repeat("x", 16)}, ESME_RINVSYSID},
		{"NUL in source_addr", PDU{ID: SubmitSM, Source: Address{Addr: "12\x003"}}, ESME_RINVSRCADR},
		{"schedule of 3 characters", PDU{ID: SubmitSM, ScheduleDeliveryTime: "abc"}, ESME_RINVSCHED},
		{"short_message of 255 octets", PDU{ID: SubmitSM, ShortMessage: make([]byte, 255)}, ESME_RINVMSGLEN},
		{"TLV on enquire_link", PDU{ID: EnquireLink, TLVs: []TLV{{0x1400, nil}}}, ESME_ROPTPARNOTALLWD},
		{"message_state of 2 octets", PDU{ID: DeliverSM, TLVs: []TLV{{TagMessageState, []byte{1, 2}}}}, ESME_RINVPARLEN},
		{"TLV over 65535", PDU{ID: DataSM, TLVs: []TLV{{TagMessagePayload, make([]byte, 70000)}}}, ESME_RINVPARLEN},
		{"no body on submit_sm", PDU{ID: SubmitSM, NoBody: true}, ESME_RINVCMDLEN},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := tc.p.AppendTo(dst)
			var e *Error
			if !errors.As(err, &e) || e.Status != tc.status {
				t.Fatalf("got %v, want status %s", err, tc.status)
			}
			if string(out) != "keep" {
				t.Errorf("dst changed on error: %q", out)
			}
		})
	}
}

func TestResp(t *testing.T) {
	tests := []struct {
		req    CommandID
		status Status
		want   PDU
	}{
		{SubmitSM, ESME_ROK, PDU{ID: SubmitSMResp, Seq: 5}},
		{SubmitSM, ESME_RTHROTTLED, PDU{ID: SubmitSMResp, Status: ESME_RTHROTTLED, Seq: 5, NoBody: true}},
		{DeliverSM, ESME_RX_P_APPN, PDU{ID: DeliverSMResp, Status: ESME_RX_P_APPN, Seq: 5}},
		{DataSM, ESME_RINVDSTADR, PDU{ID: DataSMResp, Status: ESME_RINVDSTADR, Seq: 5}},
		{BindTransceiver, ESME_RINVPASWD, PDU{ID: BindTransceiverResp, Status: ESME_RINVPASWD, Seq: 5, NoBody: true}},
		{EnquireLink, ESME_ROK, PDU{ID: EnquireLinkResp, Seq: 5}},
		{QuerySM, ESME_RINVCMDID, PDU{ID: QuerySMResp, Status: ESME_RINVCMDID, Seq: 5, NoBody: true}},
		{CommandID(0x1234), ESME_RINVCMDID, PDU{ID: GenericNack, Status: ESME_RINVCMDID, Seq: 5}},
		{Outbind, ESME_RINVCMDID, PDU{ID: GenericNack, Status: ESME_RINVCMDID, Seq: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.req.String()+"/"+tc.status.String(), func(t *testing.T) {
			req := PDU{ID: tc.req, Seq: 5}
			got := req.Resp(tc.status)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if _, err := got.Encode(); err != nil {
				t.Errorf("encode: %v", err)
			}
		})
	}
}

func TestNames(t *testing.T) {
	if SubmitSM.String() != "submit_sm" || CommandID(0x99).String() != "command_0x00000099" {
		t.Error("command names")
	}
	if ESME_RTHROTTLED.String() != "ESME_RTHROTTLED" || Status(0x400).String() != "0x00000400" {
		t.Error("status names")
	}
	if TagMessagePayload.String() != "message_payload" || Tag(0x1400).String() != "tag_0x1400" {
		t.Error("tag names")
	}
	for id := range layouts {
		if !id.Known() {
			t.Errorf("layout for unnamed command 0x%08x", uint32(id))
		}
	}
}
