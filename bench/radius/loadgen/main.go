// Command loadgen drives a RADIUS server with Access-Requests of the bench
// SIM population (80% that must be accepted, 20% that must be rejected:
// unknown IMSI, wrong IMEI, wrong APN), checks every answer against that
// expectation, and prints throughput and latency percentiles.
//
// Closed loop (default): each socket keeps -window requests outstanding,
// which finds the server's peak. With -rate it sends at a fixed rate
// (open loop) to measure latency below the peak.
package main

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/simguard/simguard/bench/radius/internal/benchsim"
	"golang.org/x/net/ipv4"
)

// batch is how many datagrams one sendmmsg/recvmmsg moves: the generator
// must cost much less per request than the servers it measures.
const batch = 32

type result struct {
	sent, answered, lost, wrong, accepted, rejected atomic.Int64
	all                                             atomic.Int64 // answers, warm-up included
	mu                                              sync.Mutex
	lat                                             []time.Duration
}

func main() {
	server := flag.String("server", "127.0.0.1:18120", "RADIUS auth address")
	secret := flag.String("secret", "bench-secret", "shared secret")
	sims := flag.Int("sims", 100000, "SIMs in the population")
	dur := flag.Duration("duration", 10*time.Second, "how long to send")
	sockets := flag.Int("sockets", 4, "client sockets (source ports)")
	window := flag.Int("window", 32, "outstanding requests per socket (closed loop)")
	rate := flag.Int("rate", 0, "requests/s in total (open loop); 0: closed loop")
	rejectPct := flag.Int("reject-pct", 20, "share of requests that must be rejected")
	warmup := flag.Duration("warmup", time.Second, "sending before measuring")
	check := flag.Bool("check", true, "fail when an answer contradicts the policy (off for the null server)")
	flag.Parse()
	to, err := netip.ParseAddrPort(*server)
	if err != nil {
		log.Fatal(err)
	}
	var res result
	var measuring atomic.Bool
	var wg sync.WaitGroup
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	deadline := time.Now().Add(*warmup + *dur)
	for s := range *sockets {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			log.Fatal(err)
		}
		_ = c.SetReadBuffer(4 << 20)
		w := &worker{conn: c, to: to, secret: []byte(*secret), sims: *sims, rejectPct: *rejectPct,
			rnd: rand.New(rand.NewPCG(uint64(s), 42)), res: &res, measuring: &measuring, window: *window}
		perSocket := 0.0
		if *rate > 0 {
			perSocket = float64(*rate) / float64(*sockets)
		}
		wg.Go(func() { w.run(deadline, perSocket) })
	}
	time.Sleep(*warmup)
	measuring.Store(true)
	start := time.Now()
	wg.Wait()
	elapsed := time.Since(start)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano()+ru.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond

	slices.Sort(res.lat)
	pct := func(p float64) float64 {
		if len(res.lat) == 0 {
			return 0
		}
		return float64(res.lat[int(p*float64(len(res.lat)-1))].Microseconds())
	}
	fmt.Printf("sent=%d answered=%d lost=%d wrong=%d accepted=%d rejected=%d rps=%.0f p50_us=%.0f p99_us=%.0f gen_cpu=%.2f gen_us_per_req=%.1f all_answered=%d\n",
		res.sent.Load(), res.answered.Load(), res.lost.Load(), res.wrong.Load(), res.accepted.Load(), res.rejected.Load(),
		float64(res.answered.Load())/elapsed.Seconds(), pct(0.50), pct(0.99), cpu.Seconds()/(elapsed+*warmup).Seconds(),
		float64(cpu.Microseconds())/float64(max(1, res.all.Load())), res.all.Load())
	if *check && res.wrong.Load() > 0 {
		fmt.Fprintln(os.Stderr, "loadgen: some answers contradict the policy")
		os.Exit(2)
	}
}

type slot struct {
	sent       time.Time
	measured   bool // sent after the warm-up
	wantAccept bool
	auth       [16]byte
	busy       bool
}

type worker struct {
	conn      *net.UDPConn
	to        netip.AddrPort
	secret    []byte
	sims      int
	rejectPct int
	rnd       *rand.Rand
	res       *result
	measuring *atomic.Bool
	window    int

	mu    sync.Mutex
	slots [256]slot
	next  int
	out   int
	free  chan struct{}
	lat   []time.Duration
}

func (w *worker) run(deadline time.Time, rate float64) {
	w.free = make(chan struct{}, 1)
	bc := ipv4.NewPacketConn(w.conn)
	done := make(chan struct{})
	go w.receive(bc, done)
	dst := net.UDPAddrFromAddrPort(w.to)
	msgs := make([]ipv4.Message, batch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 0, 512)}
		msgs[i].Addr = dst
	}
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) / rate)
	}
	begin, due := time.Now(), 0
	var ids []byte
	for time.Now().Before(deadline) {
		k := batch
		if interval > 0 {
			// Open loop: send what is due by now; sleep when nothing is.
			want := int(time.Since(begin) / interval)
			if want <= due {
				time.Sleep(time.Until(begin.Add(time.Duration(due+1) * interval)))
				continue
			}
			k = min(batch, want-due)
			due += k
		}
		ids = w.claim(ids[:0], k, interval == 0)
		if len(ids) == 0 {
			continue
		}
		m := w.measuring.Load()
		for j, id := range ids {
			msgs[j].Buffers[0] = w.build(msgs[j].Buffers[0][:0], id, w.rnd.IntN(100) >= w.rejectPct)
		}
		now := time.Now()
		w.mu.Lock()
		for _, id := range ids {
			w.slots[id].sent, w.slots[id].measured = now, m
		}
		w.mu.Unlock()
		for sent := 0; sent < len(ids); {
			n, err := bc.WriteBatch(msgs[sent:len(ids)], 0)
			if err != nil {
				break
			}
			sent += n
		}
		if m {
			w.res.sent.Add(int64(len(ids)))
		}
	}
	// Let the last answers arrive, then count the rest as lost.
	time.Sleep(500 * time.Millisecond)
	w.conn.Close()
	<-done
	w.mu.Lock()
	for i := range w.slots {
		if w.slots[i].busy && w.slots[i].measured {
			w.res.lost.Add(1)
		}
	}
	w.mu.Unlock()
	w.res.mu.Lock()
	w.res.lat = append(w.res.lat, w.lat...)
	w.res.mu.Unlock()
}

// claim takes up to k free identifiers; in closed loop at most the free
// room in the window, waiting while there is none. Requests unanswered
// for a second are freed and counted lost.
func (w *worker) claim(ids []byte, k int, closed bool) []byte {
	for {
		w.mu.Lock()
		now := time.Now()
		for i := range w.slots {
			if w.slots[i].busy && now.Sub(w.slots[i].sent) > time.Second {
				w.slots[i].busy = false
				w.out--
				if w.slots[i].measured {
					w.res.lost.Add(1)
				}
			}
		}
		want := k
		if closed {
			want = min(k, w.window-w.out)
		}
		for range 256 {
			if len(ids) >= want {
				break
			}
			id := w.next
			w.next = (w.next + 1) % 256
			if !w.slots[id].busy {
				w.slots[id].busy = true
				w.slots[id].sent = now
				w.out++
				ids = append(ids, byte(id))
			}
		}
		w.mu.Unlock()
		if len(ids) > 0 || !closed {
			return ids
		}
		select {
		case <-w.free:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (w *worker) receive(bc *ipv4.PacketConn, done chan struct{}) {
	defer close(done)
	msgs := make([]ipv4.Message, batch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 4096)}
	}
	for {
		n, err := bc.ReadBatch(msgs, 0)
		if err != nil {
			return
		}
		now := time.Now()
		w.mu.Lock()
		for i := range n {
			b := msgs[i].Buffers[0][:msgs[i].N]
			if len(b) < 20 {
				continue
			}
			id := b[1]
			sl := w.slots[id]
			if !sl.busy || !authentic(b, sl.auth, w.secret) {
				continue
			}
			w.slots[id].busy = false
			w.out--
			w.res.all.Add(1)
			if !sl.measured {
				continue
			}
			accepted := b[0] == 2
			w.res.answered.Add(1)
			if accepted {
				w.res.accepted.Add(1)
			} else {
				w.res.rejected.Add(1)
			}
			if accepted != sl.wantAccept {
				w.res.wrong.Add(1)
			}
			w.lat = append(w.lat, now.Sub(sl.sent))
		}
		w.mu.Unlock()
		select {
		case w.free <- struct{}{}:
		default:
		}
	}
}

// build encodes an Access-Request like a PGW's: User-Name and 3GPP-IMSI,
// 3GPP-IMEISV, Called-Station-Id (APN), Calling-Station-Id, NAS-IP-Address
// and a Message-Authenticator.
func (w *worker) build(b []byte, id byte, accept bool) []byte {
	i := w.rnd.IntN(w.sims)
	imsi, imei, apn := benchsim.IMSI(i), benchsim.IMEISV(i), benchsim.APN
	if !accept {
		switch w.rnd.IntN(3) {
		case 0:
			imsi = benchsim.Unknown(i)
		case 1:
			imei = benchsim.WrongIMEISV(i)
		case 2:
			apn = "internet"
		}
	}
	var auth [16]byte
	binary.LittleEndian.PutUint64(auth[:], w.rnd.Uint64())
	binary.LittleEndian.PutUint64(auth[8:], w.rnd.Uint64())
	w.mu.Lock()
	w.slots[id].auth, w.slots[id].wantAccept = auth, accept
	w.mu.Unlock()
	b = append(b, 1, id, 0, 0)
	b = append(b, auth[:]...)
	b = append(b, 80, 18)
	b = append(b, make([]byte, 16)...)
	b = attr(b, 1, imsi)
	b = vsa(b, 1, imsi)
	b = vsa(b, 20, imei)
	b = attr(b, 30, apn)
	b = attr(b, 31, "491700"+imsi[9:])
	b = append(b, 4, 6, 127, 0, 0, 1)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	h := hmac.New(md5.New, w.secret)
	h.Write(b)
	copy(b[22:38], h.Sum(nil))
	return b
}

func attr(b []byte, t byte, v string) []byte { return append(append(b, t, byte(2+len(v))), v...) }

func vsa(b []byte, t byte, v string) []byte {
	b = append(b, 26, byte(8+len(v)), 0, 0, 0x28, 0xaf, t, byte(2+len(v)))
	return append(b, v...)
}

// authentic checks the Response Authenticator against the request's.
func authentic(resp []byte, reqAuth [16]byte, secret []byte) bool {
	if int(binary.BigEndian.Uint16(resp[2:])) > len(resp) {
		return false
	}
	resp = resp[:binary.BigEndian.Uint16(resp[2:])]
	h := md5.New()
	h.Write(resp[:4])
	h.Write(reqAuth[:])
	h.Write(resp[20:])
	h.Write(secret)
	return hmac.Equal(h.Sum(nil), resp[4:20])
}
