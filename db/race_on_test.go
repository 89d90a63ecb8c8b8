//go:build race

package db

// raceDetector is set when the tests run with -race (make test), which makes SQLite-heavy
// property tests several times slower: they draw fewer cases then and all of them without it.
const raceDetector = true
