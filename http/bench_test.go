package http_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
	sghttp "github.com/simguard/simguard/http"
	"github.com/simguard/simguard/sqlite"
	"github.com/simguard/simguard/storetest"
)

// BenchmarkImport100kAPI: 100,000 SIMs as one CSV upload through the REST
// API into a fresh SQLite store (validation, duplicate checks, one
// transaction, audit record, snapshot update). Goal: under 10 s.
//
//	go test ./http/ -run x -bench Import100kAPI -benchtime 3x
func BenchmarkImport100kAPI(b *testing.B) {
	const n = 100_000
	var csv strings.Builder
	csv.WriteString("iccid,imsi,msisdn,imei,group,state\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "%s,%s,%s,%s,smart-meters,active\n", storetest.ICCID(i), storetest.IMSI(i), storetest.MSISDN(i), demo.IMEI(i%999999))
	}
	body := csv.String()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		b.StopTimer()
		ctx := context.Background()
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "s.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		svc, _ := control.New(ctx, db, control.Config{})
		secret, _ := svc.Bootstrap(ctx, "provider")
		a, _, _ := svc.Authenticate(ctx, secret)
		if _, err := svc.CreateGroup(simguard.WithActor(ctx, a), demo.Groups()[0]); err != nil {
			b.Fatal(err)
		}
		s, _ := sghttp.New(sghttp.Config{Service: svc})
		srv := httptest.NewServer(s.Handler())
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/sims/import", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+secret)
		b.StartTimer()
		resp, err := srv.Client().Do(req)
		b.StopTimer()
		if err != nil || resp.StatusCode != 201 {
			b.Fatalf("import: %v %v", resp.Status, err)
		}
		resp.Body.Close()
		if got := svc.Policy().Snapshot().Len(); got != n {
			b.Fatalf("snapshot holds %d SIMs", got)
		}
		srv.Close()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n), "sims/op")
}
