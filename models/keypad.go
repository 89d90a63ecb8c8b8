package models

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Keypad codes: six digits, each 1–9, not starting with 12, unique per device (the uniqueness
// is the caller's: GenerateKeypadCode asks it).

// KeypadCodeError says why a keypad code is refused; Reason is one of the KeypadReason…
// tokens (fit for a message key).
type KeypadCodeError struct {
	Reason string
}

// Reasons of a KeypadCodeError.
const (
	KeypadReasonLength   = "length"    // not six digits
	KeypadReasonDigits   = "digits"    // something other than the digits 1–9 (0, a letter, a space inside)
	KeypadReasonStarts12 = "starts_12" // starts with 12, which the keypad reserves
)

func (e KeypadCodeError) Error() string { return "keypad code: " + e.Reason }

// ValidKeypadCode reports whether code is a keypad code a Nuki keypad accepts: six digits, each
// 1–9, not starting with 12.
func ValidKeypadCode(code int) bool {
	if code < 111111 || code > 999999 || code/10000 == 12 {
		return false
	}
	for n := code; n > 0; n /= 10 {
		if n%10 == 0 {
			return false
		}
	}
	return true
}

// ParseKeypadCode reads a keypad code typed by a person. Spaces around it are ignored, spaces
// inside it are not; a refused code gives a KeypadCodeError.
func ParseKeypadCode(s string) (int, error) {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, KeypadCodeError{KeypadReasonDigits}
		}
	}
	switch {
	case len(s) != 6:
		return 0, KeypadCodeError{KeypadReasonLength}
	case strings.Contains(s, "0"):
		return 0, KeypadCodeError{KeypadReasonDigits}
	case strings.HasPrefix(s, "12"):
		return 0, KeypadCodeError{KeypadReasonStarts12}
	}
	code, err := strconv.Atoi(s)
	if err != nil || !ValidKeypadCode(code) { // cannot happen after the checks above
		return 0, KeypadCodeError{KeypadReasonDigits}
	}
	return code, nil
}

// KeypadNameMax is the longest name of a keypad code, in characters.
const KeypadNameMax = 20

// KeypadNameError says why a keypad code's name is refused; Reason is one of the
// KeypadNameReason… tokens.
type KeypadNameError struct {
	Reason string
}

// Reasons of a KeypadNameError.
const (
	KeypadNameReasonEmpty   = "empty"    // nothing but spaces
	KeypadNameReasonTooLong = "too_long" // more than KeypadNameMax characters
	KeypadNameReasonControl = "control"  // a line break or another control character
)

func (e KeypadNameError) Error() string { return "keypad code name: " + e.Reason }

// ValidKeypadName checks the name of a keypad code as it will be stored: trimmed of spaces
// (store strings.TrimSpace(name)), 1 to KeypadNameMax characters, on one line.
func ValidKeypadName(name string) error {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return KeypadNameError{KeypadNameReasonEmpty}
	case utf8.RuneCountInString(name) > KeypadNameMax:
		return KeypadNameError{KeypadNameReasonTooLong}
	case strings.ContainsFunc(name, unicode.IsControl):
		return KeypadNameError{KeypadNameReasonControl}
	}
	return nil
}

// ErrNoFreeKeypadCode is returned (wrapped) by GenerateKeypadCode when every valid code is in
// use.
var ErrNoFreeKeypadCode = errors.New("no free keypad code")

const (
	keypadCodeTail  = 9 * 9 * 9 * 9              // the last four digits: 6,561 ways
	keypadCodeCount = (9*9 - 1) * keypadCodeTail // 80 first-two-digit pairs (all but 12): 524,880
	// keypadRandomTries is how many random codes GenerateKeypadCode proposes before it looks
	// at every code (which takes keypadCodeCount calls of inUse).
	keypadRandomTries = 64
)

// keypadCodeAt is the i-th valid keypad code (0 ≤ i < keypadCodeCount), in increasing order.
func keypadCodeAt(i int) int {
	pair, tail := i/keypadCodeTail, i%keypadCodeTail
	if pair >= 1 { // skip the pair "12" (index 1: first digit 1, second digit 2)
		pair++
	}
	code := (pair/9+1)*10 + pair%9 + 1
	for div := keypadCodeTail / 9; div > 0; div /= 9 { // the tail's base-9 digits, as 1–9
		code = code*10 + tail/div%9 + 1
	}
	return code
}

// randomBelow draws a uniform number in [0, n) from rnd; ok is false when the draw had to be
// rejected (it would have made small numbers likelier), which happens with a probability below
// n/2⁶⁴.
func randomBelow(rnd io.Reader, n uint64) (v uint64, ok bool, err error) {
	var b [8]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return 0, false, err
	}
	x := binary.BigEndian.Uint64(b[:])
	if x >= ^uint64(0)-^uint64(0)%n { // the last, incomplete run of n
		return 0, false, nil
	}
	return x % n, true, nil
}

// GenerateKeypadCode proposes a random valid keypad code for which inUse is false, chosen
// uniformly among those codes. rnd is the source of randomness (nil: crypto/rand.Reader; tests
// pass a deterministic one). inUse is asked about a few random codes first; when they are all
// taken, it is asked about every valid code once (524,880 calls), so it should be a quick
// lookup that gives the same answer each time. When every code is in use, the error wraps
// ErrNoFreeKeypadCode.
func GenerateKeypadCode(inUse func(code int) bool, rnd io.Reader) (int, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	for range keypadRandomTries {
		i, ok, err := randomBelow(rnd, keypadCodeCount)
		if err != nil {
			return 0, fmt.Errorf("generating a keypad code: %w", err)
		}
		if !ok {
			continue
		}
		if code := keypadCodeAt(int(i)); !inUse(code) {
			return code, nil
		}
	}
	// Nearly every code is taken: choose among the free ones.
	var free []int32
	for i := range keypadCodeCount {
		if code := keypadCodeAt(i); !inUse(code) {
			free = append(free, int32(code))
		}
	}
	if len(free) == 0 {
		return 0, fmt.Errorf("generating a keypad code: all %d codes are in use: %w", keypadCodeCount, ErrNoFreeKeypadCode)
	}
	for range keypadRandomTries {
		i, ok, err := randomBelow(rnd, uint64(len(free)))
		if err != nil {
			return 0, fmt.Errorf("generating a keypad code: %w", err)
		}
		if ok {
			return int(free[i]), nil
		}
	}
	return 0, errors.New("generating a keypad code: the random source gives no usable numbers")
}
