//go:build !race

package db

// raceDetector: see race_on_test.go.
const raceDetector = false
