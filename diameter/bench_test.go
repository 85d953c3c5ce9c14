package diameter

import (
	"errors"
	"fmt"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

// BenchmarkECRPipelined: ECRs over one loopback connection, 64
// outstanding, against a policy of 100,000 SIMs (bench/diameter runs the
// full 1,000,000 with several connections). Reported per answer.
func BenchmarkECRPipelined(b *testing.B) {
	pol := testPolicy(b, 100_000)
	h := startServer(b, Config{}, []simguard.DiameterPeer{localPeer(mmeHost)}, pol)
	cl := dial(b, h.srv.Addr(), mmeHost)
	cl.cer(wire.AppS13)
	const window = 64
	reqs := make([][]byte, 1024)
	for i := range reqs {
		reqs[i] = ecr(cl, fmt.Sprintf("00101%010d", i*97%100_000+1), imeiBound, "01").Append(nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := make(chan error, 1)
	sem := make(chan struct{}, window)
	go func() {
		for i := 0; i < b.N; i++ {
			a, err := cl.read()
			if err != nil {
				done <- err
				return
			}
			if es := a.Find(wire.AVPEquipmentStatus, wire.Vendor3GPP); es == nil {
				done <- errNoStatus
				return
			}
			<-sem
		}
		done <- nil
	}()
	go func() {
		for i := 0; i < b.N; i++ {
			sem <- struct{}{}
			cl.nc.Write(reqs[i%len(reqs)])
		}
	}()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

var errNoStatus = errors.New("ECA without Equipment-Status")
