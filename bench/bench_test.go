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
	l := newLoad(b, url, header, wantStatus)
	defer l.close()
	b.ResetTimer()
	r := l.run(b.N)
	b.StopTimer()
	b.ReportMetric(r.pct(0.50), "p50-ms")
	b.ReportMetric(r.pct(0.99), "p99-ms")
	b.ReportMetric(r.perSecond(), "req/s")
}

// load sends GET requests to one url from loadWorkers concurrent clients. It is separate from
// runLoad so that a benchmark can load two servers in turns and compare them.
type load struct {
	b      *testing.B
	client *http.Client
	get    func() (time.Duration, error)
}

// newLoad makes the clients and warms up connections and caches outside any measurement.
func newLoad(b *testing.B, url string, header http.Header, wantStatus int) *load {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadWorkers}, Timeout: 30 * time.Second}
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
	for range loadWorkers {
		if _, err := get(); err != nil {
			b.Fatal(err)
		}
	}
	return &load{b: b, client: client, get: get}
}

func (l *load) close() { l.client.CloseIdleConnections() }

// loadResult is the latencies of a run of requests and how long the run took.
type loadResult struct {
	latencies []time.Duration
	elapsed   time.Duration
}

// run sends n requests and waits for all answers.
func (l *load) run(n int) loadResult {
	latencies := make([]time.Duration, n)
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range loadWorkers {
		wg.Go(func() {
			for i := range next {
				d, err := l.get()
				if err != nil {
					l.b.Error(err)
					return
				}
				latencies[i] = d
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return loadResult{latencies: latencies, elapsed: time.Since(start)}
}

// add is both runs together (requests and time).
func (r loadResult) add(o loadResult) loadResult {
	return loadResult{latencies: append(slices.Clone(r.latencies), o.latencies...), elapsed: r.elapsed + o.elapsed}
}

// pct is the p-th percentile latency in milliseconds.
func (r loadResult) pct(p float64) float64 {
	ls := slices.Sorted(slices.Values(r.latencies))
	return float64(ls[int(float64(len(ls)-1)*p)].Microseconds()) / 1000
}

func (r loadResult) perSecond() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

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
