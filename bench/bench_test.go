// Package bench measures Portier over real HTTP on loopback: `make bench` runs it. The figures
// are reported, never asserted.
package bench

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"portier/apptest"
	"portier/auth"
)

// loadWorkers is how many clients send requests at once.
const loadWorkers = 32

// runLoad sends b.N GET requests to url (with header, e.g. a session cookie) from loadWorkers
// concurrent clients and reports the median and 99th percentile latency and the throughput.
func runLoad(b *testing.B, url string, header http.Header, wantStatus int) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadWorkers}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	get := func() (time.Duration, error) {
		start := time.Now()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != wantStatus {
			b.Fatalf("GET %s: status %d, want %d", url, res.StatusCode, wantStatus)
		}
		return time.Since(start), err
	}
	// Warm up connections and caches outside the measurement.
	for range loadWorkers {
		if _, err := get(); err != nil {
			b.Fatal(err)
		}
	}

	latencies := make([]time.Duration, b.N)
	next := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range loadWorkers {
		wg.Go(func() {
			for i := range next {
				d, err := get()
				if err != nil {
					b.Error(err)
					return
				}
				latencies[i] = d
			}
		})
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(float64(len(latencies)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// GET /login under load from 32 concurrent clients: the full stack (security headers, session
// lookup, cross-origin check, templ rendering) with a real SQLite database.
func BenchmarkLoginPageUnderLoad(b *testing.B) {
	app := apptest.New(b, apptest.Options{})
	app.Setup()
	runLoad(b, app.URL+"/login", nil, http.StatusOK)
}

// GET /healthz under load: the database ping and JSON answer.
func BenchmarkHealthzUnderLoad(b *testing.B) {
	app := apptest.New(b, apptest.Options{})
	runLoad(b, app.URL+"/healthz", nil, http.StatusOK)
}

// One argon2id hash with the production parameters: the cost of every login and password change.
func BenchmarkPasswordHash(b *testing.B) {
	h := auth.NewHasher(auth.DefaultArgon2, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
