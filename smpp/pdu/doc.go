// Package pdu is an SMPP 3.4 codec: framing, the PDUs an SMS firewall needs
// (bind_*, unbind, enquire_link, generic_nack, submit_sm, deliver_sm,
// data_sm, outbind and their responses) and TLVs.
//
// Body layouts are tables of fields (see layouts in pdu.go) walked by one
// decoder and one encoder, so that decode followed by encode gives back the
// same bytes: TLVs keep their order and unknown TLVs their exact value, and
// an error response without a body stays without one. A proxy can therefore
// inspect a decoded PDU and still forward the original frame untouched.
//
// Decoding never trusts a length from the wire before checking it against
// what is left of the frame, and ReadFrame refuses a command_length above
// the caller's maximum before it allocates anything.
//
// Decode errors carry the command_status that the SMPP 3.4 specification
// (section 5.1.3) gives for the fault, so that a server can answer with it.
package pdu
