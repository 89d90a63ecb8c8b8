//go:build race

package db

// raceDetector is set when the tests run with -race. The race detector makes the pure-Go
// SQLite about eight times slower, and checks nothing in a test that runs on one goroutine: the
// CPU-bound property tests of this package skip under it (skipUnderRace), and make test runs
// them in a second step without it.
const raceDetector = true
