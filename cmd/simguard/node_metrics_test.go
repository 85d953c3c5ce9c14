package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// A node serves its metrics and /healthz where told, and refuses to start
// when it cannot: every node (RADIUS, SMPP, Diameter, gateway) follows the
// same rule.
func TestListenMetrics(t *testing.T) {
	if m, err := listenMetrics("", "--metrics-listen", nodeRegistry()); m != nil || err != nil {
		t.Fatalf("no address: %v, %v; want nothing served", m, err)
	}
	var none *nodeMetrics
	none.Close() // a node without metrics closes them all the same

	m, err := listenMetrics("127.0.0.1:0", "--metrics-listen", nodeRegistry())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + m.addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "go_goroutines") {
		t.Fatalf("GET /metrics: %d\n%.300s", resp.StatusCode, body)
	}
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/other": http.StatusNotFound} {
		resp, err := http.Get("http://" + m.addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if _, err := listenMetrics(taken.Addr().String(), "--metrics-listen", nodeRegistry()); err == nil ||
		!strings.Contains(err.Error(), "metrics: listen on "+taken.Addr().String()) || !strings.Contains(err.Error(), "--metrics-listen") {
		t.Errorf("taken address: %v", err)
	}
	m.Close()
	if _, err := http.Get("http://" + m.addr.String() + "/metrics"); err == nil {
		t.Error("metrics still served after Close")
	}
}
