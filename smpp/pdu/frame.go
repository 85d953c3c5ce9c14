package pdu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// HeaderLen is the length of the PDU header.
const HeaderLen = 16

// DefaultMaxLen is a sane upper bound for command_length: the largest
// message_payload SMSCs accept is 64 KiB, and nothing else comes close.
const DefaultMaxLen = 64 << 10

// Header is the fixed start of every PDU.
type Header struct {
	Length uint32
	ID     CommandID
	Status Status
	Seq    uint32
}

// ParseHeader reads the header at the start of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, &Error{Status: ESME_RINVCMDLEN, Field: "command_length", Msg: fmt.Sprintf("only %d octets, a header has 16", len(b))}
	}
	h := Header{
		Length: binary.BigEndian.Uint32(b),
		ID:     CommandID(binary.BigEndian.Uint32(b[4:])),
		Status: Status(binary.BigEndian.Uint32(b[8:])),
		Seq:    binary.BigEndian.Uint32(b[12:]),
	}
	if h.Length < HeaderLen {
		return h, &Error{Status: ESME_RINVCMDLEN, Field: "command_length", Msg: fmt.Sprintf("%d is shorter than the header", h.Length)}
	}
	return h, nil
}

// Seq returns the sequence_number of a frame.
func Seq(frame []byte) uint32 { return binary.BigEndian.Uint32(frame[12:]) }

// SetSeq rewrites the sequence_number of a frame in place; a proxy uses it
// to map sequence numbers between its two sides without re-encoding.
func SetSeq(frame []byte, seq uint32) { binary.BigEndian.PutUint32(frame[12:], seq) }

// SetStatus rewrites the command_status of a frame in place.
func SetStatus(frame []byte, s Status) { binary.BigEndian.PutUint32(frame[8:], uint32(s)) }

// ErrFrameLength is wrapped by ReadFrame's error for a command_length out of
// bounds. The stream cannot be resynchronised after it: answer with
// generic_nack ESME_RINVCMDLEN and close the connection.
var ErrFrameLength = errors.New("command_length out of bounds")

// ReadFrame reads one whole PDU from r into buf (grown if needed) and
// returns it. A command_length below 16 or above max is rejected before
// anything is allocated for it. io.EOF is returned only when the stream ends
// cleanly between two PDUs.
func ReadFrame(r io.Reader, buf []byte, max int) ([]byte, error) {
	if max < HeaderLen {
		max = DefaultMaxLen
	}
	if cap(buf) < HeaderLen {
		buf = make([]byte, 0, 256)
	}
	buf = buf[:HeaderLen]
	if _, err := io.ReadFull(r, buf[:4]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(buf)
	if n < HeaderLen || uint64(n) > uint64(max) {
		return nil, fmt.Errorf("read pdu: %w: %d, want 16 to %d", ErrFrameLength, n, max)
	}
	if cap(buf) < int(n) {
		nb := make([]byte, n)
		copy(nb, buf[:4])
		buf = nb
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read pdu of %d octets: %w", n, err)
	}
	return buf, nil
}

// IDOf returns the command_id of a frame.
func IDOf(frame []byte) CommandID { return CommandID(binary.BigEndian.Uint32(frame[4:])) }

// StatusOf returns the command_status of a frame.
func StatusOf(frame []byte) Status { return Status(binary.BigEndian.Uint32(frame[8:])) }
