package smpp

import (
	"sync"
	"testing"

	"github.com/simguard/simguard/smpp/pdu"
	"github.com/simguard/simguard/smpp/smpptest"
)

// BenchmarkRelay sends allowed submit_sm through the proxy to a sink, 256
// outstanding. Allocations include the client's and the sink's; see
// bench/smpp for the comparison with the direct path.
func BenchmarkRelay(b *testing.B) {
	smsc, err := smpptest.NewSMSC("127.0.0.1:0", smpptest.SMSCOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer smsc.Close()
	h := startProxy(b, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	c, err := smpptest.Dial(h.addr, smpptest.ClientOptions{SystemID: "meterapp", Password: "pw1", Window: 256})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p := submit("4930123456", simMeter, "meter 42: 17.5 kWh, 230 V, status ok")
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	wg.Add(b.N)
	for range b.N {
		q := *p
		if err := c.Send(&q, func(r *pdu.PDU, err error) {
			if err != nil || r.Status != pdu.ESME_ROK {
				b.Error("not relayed")
			}
			wg.Done()
		}); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
}
