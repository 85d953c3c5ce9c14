package smpp

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard/smpp/pdu"
)

// TestFlushUnderBackpressure: frames queued by readers (flushed in their
// own goroutine) and by other goroutines (through the writer goroutine)
// all arrive, whole and each producer's in order, also when the peer
// reads slowly and the socket takes only part of a write.
func TestFlushUnderBackpressure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc.(*net.TCPConn).SetWriteBuffer(4096) // small: writes block and split
	peer := <-accepted
	defer peer.Close()
	l := newLink(nc, 0, outputLimit, 10*time.Second, 0)
	if l.rc == nil {
		t.Fatal("a TCP link writes without its writer goroutine only with a raw conn")
	}
	done := make(chan struct{})
	go func() { l.writeLoop(); close(done) }()

	const producers, frames = 4, 2000
	got := make(chan [2]uint32, producers*frames)
	go func() { // the slow peer
		r := bufio.NewReaderSize(peer, 512)
		for n := 0; n < producers*frames; n++ {
			f, err := pdu.ReadFrame(r, nil, pdu.DefaultMaxLen)
			if err != nil {
				t.Errorf("frame %d: %v", n, err)
				close(got)
				return
			}
			got <- [2]uint32{pdu.Seq(f), binary.BigEndian.Uint32(f[16:])}
			if n%200 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		close(got)
	}()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var fs flushSet
			body := make([]byte, 200) // frames of 216 octets
			for i := range frames {
				f := pdu.PDU{ID: 0x00000777, Seq: uint32(p), Body: body}
				binary.BigEndian.PutUint32(body, uint32(i))
				if p%2 == 0 { // a reader: queue, flush every few frames
					l.writePDU(&f, &fs)
					if i%7 == 0 {
						fs.flush()
					}
				} else { // another goroutine: the writer goroutine writes
					l.writePDU(&f, nil)
				}
			}
			fs.flush()
		}()
	}
	wg.Wait()
	next := make([]uint32, producers)
	n := 0
	for g := range got {
		p, i := g[0], g[1]
		if i != next[p] {
			t.Fatalf("producer %d: frame %d after %d", p, i, next[p]-1)
		}
		next[p]++
		n++
	}
	if n != producers*frames {
		t.Fatalf("%d of %d frames arrived", n, producers*frames)
	}
	l.close(errShutdown)
	<-done
}
