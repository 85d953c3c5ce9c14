package diameter

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

// Integration tests with a real third-party Diameter peer: node-diameter
// 0.7.0 (diameter/e2e, pinned by package-lock.json) as the MME and as the
// HSS, over TCP on 127.0.0.1.

// nodePeer skips when node is missing and installs the pinned package
// when it is not installed yet.
func nodePeer(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the node-diameter integration tests need it")
	}
	dir, _ := filepath.Abs("e2e")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "diameter")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return node
}

type nodeLine map[string]any

func (l nodeLine) str(k string) string {
	v, _ := l[k].(string)
	return v
}

// runMME runs mme.js with steps and returns its JSON lines.
func runMME(t *testing.T, node, addr, host string, steps ...map[string]any) []nodeLine {
	t.Helper()
	js, _ := json.Marshal(steps)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "mme.js", addr, host, string(js))
	cmd.Dir = "e2e"
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mme.js: %v\n%s", err, out)
	}
	var lines []nodeLine
	for _, s := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var l nodeLine
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("mme.js printed %q: %v", s, err)
		}
		if l.str("op") == "error" || l.str("op") == "socket_error" {
			t.Fatalf("mme.js: %s", s)
		}
		lines = append(lines, l)
	}
	return lines
}

// ops returns the lines of one op, in order.
func ops(lines []nodeLine, op string) []nodeLine {
	var out []nodeLine
	for _, l := range lines {
		if l.str("op") == op {
			out = append(out, l)
		}
	}
	return out
}

func TestNodeDiameterEIR(t *testing.T) {
	node := nodePeer(t)
	pol := testPolicy(t, 3)
	snap, err := pol.Snapshot().WithDevices([]simguard.Device{{TenantID: 1, IMEI: "35000000000001", Status: simguard.DeviceStolen}})
	if err != nil {
		t.Fatal(err)
	}
	_ = pol.Update(func(*policySnapshot) (*policySnapshot, error) { return snap, nil })
	h := startServer(t, Config{}, []simguard.DiameterPeer{localPeer(mmeHost)}, pol)
	lines := runMME(t, node, h.srv.Addr().String(), mmeHost,
		map[string]any{"op": "cer", "apps": []int{int(wire.AppS13)}},
		map[string]any{"op": "ecr", "imsi": testIMSI(0), "imei": imeiBound, "sv": "01"},
		map[string]any{"op": "ecr", "imsi": testIMSI(0), "imei": imeiOther},
		map[string]any{"op": "ecr", "imsi": testIMSI(1), "imei": "35000000000001"},
		map[string]any{"op": "dwr"},
		map[string]any{"op": "dpr"},
		map[string]any{"op": "closed", "ms": 10000},
	)
	if c := ops(lines, "cer"); len(c) != 1 || c[0].str("result") != "DIAMETER_SUCCESS" || c[0].str("origin_host") != "eir.test.example" {
		t.Fatalf("CEA: %v", lines)
	}
	want := []string{"WHITELISTED", "BLACKLISTED", "BLACKLISTED"}
	ecas := ops(lines, "ecr")
	if len(ecas) != len(want) {
		t.Fatalf("ECAs: %v", lines)
	}
	for i, w := range want {
		if ecas[i].str("equipment_status") != w || ecas[i].str("result") != "DIAMETER_SUCCESS" {
			t.Errorf("ECR %d (%s): %v, want %s", i, ecas[i].str("imei"), ecas[i], w)
		}
	}
	if d := ops(lines, "dwr"); len(d) != 1 || d[0].str("result") != "DIAMETER_SUCCESS" {
		t.Fatalf("DWA: %v", lines)
	}
	if d := ops(lines, "dpr"); len(d) != 1 || d[0].str("result") != "DIAMETER_SUCCESS" {
		t.Fatalf("DPA: %v", lines)
	}
	if c := ops(lines, "closed"); len(c) != 1 || c[0]["closed"] != true {
		t.Fatalf("simguard did not close after DPA: %v", lines)
	}
	e := h.ev.wait(t, EventECR, func(e simguard.Event) bool { return e.Attrs["imei"] == imeiOther })
	if e.Decision != "deny" || e.Reason != simguard.ReasonIMEIMismatch || e.Attrs["equipment_status"] != "blacklisted" || e.SIMID != 1 {
		t.Fatalf("mismatch event %+v", e)
	}
	e = h.ev.wait(t, EventECR, func(e simguard.Event) bool { return e.Attrs["imei"] == "35000000000001" })
	if e.Reason != simguard.ReasonDeviceBlocked {
		t.Fatalf("stolen device event %+v", e)
	}
}

// startNodeHSS runs hss.js and returns its address and a reader of what
// it received.
func startNodeHSS(t *testing.T, node string) (string, func() []nodeLine) {
	t.Helper()
	cmd := exec.Command(node, "hss.js", hssHost)
	cmd.Dir = "e2e"
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []nodeLine
	port := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l nodeLine
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			if p, ok := l["listening"].(float64); ok {
				port <- int(p)
				continue
			}
			mu.Lock()
			got = append(got, l)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		<-done
	})
	select {
	case p := <-port:
		return fmt.Sprintf("127.0.0.1:%d", p), func() []nodeLine {
			mu.Lock()
			defer mu.Unlock()
			return append([]nodeLine(nil), got...)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("hss.js did not start listening")
	}
	return "", nil
}

func TestNodeDiameterS6aGuard(t *testing.T) {
	node := nodePeer(t)
	hssAddr, received := startNodeHSS(t, node)
	h := startServer(t, Config{HSS: HSSConfig{Addr: hssAddr, Host: hssHost, Realm: "test.example"}},
		[]simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 3))
	h.waitHSS(t)
	lines := runMME(t, node, h.srv.Addr().String(), mmeHost,
		map[string]any{"op": "cer", "apps": []int{int(wire.AppS6a)}},
		map[string]any{"op": "ulr", "imsi": testIMSI(0), "imei": imeiBound, "plmn": "00f110", "rat": "EUTRAN"},
		map[string]any{"op": "ulr", "imsi": testIMSI(0), "imei": imeiBound, "plmn": "00f110", "rat": "EUTRAN-NB-IoT"},
		map[string]any{"op": "ulr", "imsi": testIMSI(0), "imei": imeiBound, "plmn": "62f210", "rat": "EUTRAN"},
		map[string]any{"op": "ulr", "imsi": testIMSI(0), "imei": imeiBound, "plmn": "00f110", "rat": "UTRAN"},
		map[string]any{"op": "ulr", "imsi": testIMSI(2), "imei": imeiBound, "plmn": "00f110", "rat": "EUTRAN"},
		map[string]any{"op": "dpr"},
	)
	ulas := ops(lines, "ulr")
	if len(ulas) != 5 {
		t.Fatalf("ULAs: %v", lines)
	}
	for i := 0; i < 2; i++ {
		if ulas[i].str("result") != "DIAMETER_SUCCESS" || ulas[i].str("origin_host") != hssHost || ulas[i]["ula_flags"] != float64(1) {
			t.Errorf("allowed ULR %d not answered by the HSS: %v", i, ulas[i])
		}
	}
	for i, want := range []string{"DIAMETER_ERROR_ROAMING_NOT_ALLOWED", "DIAMETER_ERROR_RAT_NOT_ALLOWED"} {
		u := ulas[2+i]
		if u.str("experimental_result") != want || u["experimental_vendor"] != float64(wire.Vendor3GPP) || u.str("origin_host") != "eir.test.example" {
			t.Errorf("denied ULR %d: %v, want %s from simguard", 2+i, u, want)
		}
	}
	if u := ulas[4]; u.str("result") != "DIAMETER_AUTHORIZATION_REJECTED" {
		t.Errorf("suspended SIM: %v", u)
	}
	var ulrs []nodeLine
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ulrs = nil
		for _, l := range received() {
			if l.str("received") == "3GPP-Update-Location" {
				ulrs = append(ulrs, l)
			}
		}
		if len(ulrs) >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(ulrs) != 2 {
		t.Fatalf("the HSS got %d ULRs, want the 2 allowed: %v", len(ulrs), received())
	}
	if rr, _ := ulrs[0]["route_record"].([]any); len(rr) != 1 || rr[0] != mmeHost || ulrs[0].str("origin_host") != mmeHost {
		t.Fatalf("relayed ULR at the HSS: %v", ulrs[0])
	}
	h.ev.wait(t, EventULR, func(e simguard.Event) bool { return e.Reason == simguard.ReasonRATDenied && e.Attrs["rat"] == "3g" })
	h.ev.wait(t, EventULR, func(e simguard.Event) bool {
		return e.Reason == simguard.ReasonLocationDenied && e.Attrs["plmn"] == "262-01"
	})
}

func TestNodeDiameterWatchdogAndGarbage(t *testing.T) {
	node := nodePeer(t)
	h := startServer(t, Config{Watchdog: time.Second}, []simguard.DiameterPeer{localPeer(mmeHost), localPeer("mme2.test.example")}, testPolicy(t, 1))
	// While the node MME idles (answering simguard's DWRs), another peer
	// sends garbage and is dropped.
	go func() {
		time.Sleep(300 * time.Millisecond)
		c, err := net.Dial("tcp", h.srv.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not diameter at all, a TLS hello maybe"))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64)
		c.Read(buf)
	}()
	lines := runMME(t, node, h.srv.Addr().String(), mmeHost,
		map[string]any{"op": "cer", "apps": []int{int(wire.AppS13)}},
		map[string]any{"op": "idle", "ms": 3500},
		map[string]any{"op": "ecr", "imsi": testIMSI(0), "imei": imeiBound},
		map[string]any{"op": "dpr"},
	)
	idle := ops(lines, "idle")
	if len(idle) != 1 || idle[0]["dwrs"].(float64) < 1 || idle[0]["closed"] != false {
		t.Fatalf("watchdog: %v", lines)
	}
	if e := ops(lines, "ecr"); len(e) != 1 || e[0].str("equipment_status") != "WHITELISTED" {
		t.Fatalf("ECR after the garbage peer: %v", lines)
	}
	h.ev.wait(t, EventDropped, func(e simguard.Event) bool { return e.Attrs["cause"] == "malformed" })
}
