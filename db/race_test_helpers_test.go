package db

import "testing"

// skipUnderRace skips a CPU-bound test that runs on one goroutine when the race detector is on
// (see race_on_test.go). Such a test must be listed in the Makefile's RACE_FREE_TESTS, which
// make test runs without -race, or it would never run there.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("one goroutine and CPU-bound: make test runs it without -race (RACE_FREE_TESTS in the Makefile)")
	}
}
