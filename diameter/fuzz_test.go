package diameter

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

// FuzzDispatch: any message that frames, handled on an open connection
// (every application negotiated) or as the first message of a new one,
// makes the server answer or drop it, never panic. The policy, device
// list and peers are real; the peer end is a pipe that is drained.
func FuzzDispatch(f *testing.F) {
	files, _ := filepath.Glob("wire/testdata/*.bin")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	pol := testPolicy(f, 3)
	srv, err := New(Config{OriginHost: "eir.test.example", OriginRealm: "test.example", HSS: HSSConfig{Addr: "127.0.0.1:1", Host: hssHost, Realm: "test.example"}},
		Deps{Evaluator: pol, Feedback: &recFeedback{}, Events: &recEvents{}})
	if err != nil {
		f.Fatal(err)
	}
	peer := localPeer(mmeHost, "001-01")
	srv.SetPeers([]simguard.DiameterPeer{peer, localPeer("mme.example.net")})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m wire.Message
		if m.Decode(b) != nil {
			return
		}
		for _, st := range []state{stOpen, stWaitCER} {
			local, remote := net.Pipe()
			drained := make(chan struct{})
			go func() { io.Copy(io.Discard, remote); close(drained) }()
			c := srv.newConn(local, roleMME)
			if st == stOpen {
				c.state.Store(int32(stOpen))
				c.apps = appS13 | appS6a
				c.setHost(mmeHost)
				c.peer.Store(&peer)
			}
			raw := append([]byte(nil), b...)
			var mm wire.Message
			if err := mm.Decode(raw); err != nil {
				t.Fatalf("decoded once, not twice: %v", err)
			}
			_ = c.dispatch(&mm, raw)
			c.flushPending()
			c.close("fuzz")
			remote.Close()
			<-drained
		}
	})
}
