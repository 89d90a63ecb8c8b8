package models

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidKeypadCode(t *testing.T) {
	t.Parallel()
	for _, ok := range []int{111111, 345678, 999999, 131111, 211111, 119999, 139999} {
		assert.True(t, ValidKeypadCode(ok), ok)
	}
	for _, bad := range []int{0, -111111, 11111, 1111111, 123456, 121111, 120000, 129999, 103456, 345670, 12345} {
		assert.False(t, ValidKeypadCode(bad), bad)
	}
}

func TestParseKeypadCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		code   int
		reason string
	}{
		{"111111", 111111, ""},
		{"999999", 999999, ""},
		{"211111", 211111, ""},
		{"131111", 131111, ""},
		{" 468357 ", 468357, ""},
		{"\t468357\r\n", 468357, ""},
		{"123456", 0, KeypadReasonStarts12},
		{"121111", 0, KeypadReasonStarts12},
		{"012345", 0, KeypadReasonDigits},
		{"102345", 0, KeypadReasonDigits},
		{"345670", 0, KeypadReasonDigits},
		{"11111", 0, KeypadReasonLength},
		{"1111111", 0, KeypadReasonLength},
		{"", 0, KeypadReasonLength},
		{"   ", 0, KeypadReasonLength},
		{"12 3456", 0, KeypadReasonDigits},
		{"468 357", 0, KeypadReasonDigits},
		{"46835a", 0, KeypadReasonDigits},
		{"+468357", 0, KeypadReasonDigits},
		{"-46835", 0, KeypadReasonDigits},
		{"４６８３５７", 0, KeypadReasonDigits}, // full-width digits
		{"468٣57", 0, KeypadReasonDigits}, // an Arabic-Indic digit
		{"1e5", 0, KeypadReasonDigits},
	} {
		code, err := ParseKeypadCode(tc.in)
		if tc.reason == "" {
			require.NoError(t, err, "%q", tc.in)
			assert.Equal(t, tc.code, code, "%q", tc.in)
			continue
		}
		var ke KeypadCodeError
		require.True(t, errors.As(err, &ke), "%q: %v", tc.in, err)
		assert.Equal(t, tc.reason, ke.Reason, "%q", tc.in)
		assert.Equal(t, 0, code)
		assert.Equal(t, "keypad code: "+tc.reason, err.Error())
	}
}

// Every number up to seven digits: ParseKeypadCode and ValidKeypadCode agree, and there are
// exactly 9⁶ − 9⁴ valid codes.
func TestKeypadCodesExhaustive(t *testing.T) {
	t.Parallel()
	n := 0
	for c := range 10_000_000 {
		code, err := ParseKeypadCode(strconv.Itoa(c))
		valid := ValidKeypadCode(c)
		if valid != (err == nil) || valid && code != c {
			t.Fatalf("%d: ValidKeypadCode %v, ParseKeypadCode %d %v", c, valid, code, err)
		}
		if valid {
			n++
		}
	}
	assert.Equal(t, 9*9*9*9*9*9-9*9*9*9, n)
	assert.Equal(t, n, keypadCodeCount)
}

// keypadCodeAt lists the valid codes in increasing order: a bijection onto them.
func TestKeypadCodeAt(t *testing.T) {
	t.Parallel()
	prev := 0
	for i := range keypadCodeCount {
		c := keypadCodeAt(i)
		if !ValidKeypadCode(c) || c <= prev {
			t.Fatalf("index %d: %d after %d", i, c, prev)
		}
		prev = c
	}
	assert.Equal(t, 111111, keypadCodeAt(0))
	assert.Equal(t, 119999, keypadCodeAt(keypadCodeTail-1))
	assert.Equal(t, 131111, keypadCodeAt(keypadCodeTail))
	assert.Equal(t, 999999, keypadCodeAt(keypadCodeCount-1))
}

func FuzzParseKeypadCode(f *testing.F) {
	for _, s := range []string{"111111", "999999", "123456", "121111", "211111", "012345", "102345", "11111", "1111111",
		"12 3456", " 468357 ", "", "\u00a0468357\u2003", "４６８３５７", "468357\x00", "-11111", "1\n11111"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseKeypadCode(s)
		trimmed := strings.TrimSpace(s)
		want := len(trimmed) == 6 && !strings.HasPrefix(trimmed, "12") &&
			strings.Trim(trimmed, "123456789") == ""
		if want != (err == nil) {
			t.Fatalf("%q: want ok %v, got %d, %v", s, want, code, err)
		}
		if err != nil {
			var ke KeypadCodeError
			if !errors.As(err, &ke) || ke.Reason != KeypadReasonLength && ke.Reason != KeypadReasonDigits && ke.Reason != KeypadReasonStarts12 {
				t.Fatalf("%q: error %#v", s, err)
			}
			return
		}
		if strconv.Itoa(code) != trimmed || !ValidKeypadCode(code) {
			t.Fatalf("%q: parsed %d", s, code)
		}
		if again, err := ParseKeypadCode(strconv.Itoa(code)); err != nil || again != code {
			t.Fatalf("%q: round trip %d, %v", s, again, err)
		}
	})
}

func TestValidKeypadName(t *testing.T) {
	t.Parallel()
	twenty := strings.Repeat("ä", 20) // 20 characters, 40 bytes
	for _, tc := range []struct {
		in     string
		reason string
	}{
		{"Anna", ""},
		{"  Anna Müller  ", ""},
		{"Cleaner (Tue)", ""},
		{twenty, ""},
		{" \t" + twenty + "\n", ""},
		{"😀", ""},
		{"", KeypadNameReasonEmpty},
		{" \t\n ", KeypadNameReasonEmpty},
		{twenty + "a", KeypadNameReasonTooLong},
		{strings.Repeat("x", 200), KeypadNameReasonTooLong},
		{"Anna\nMüller", KeypadNameReasonControl},
		{"Anna\x00", KeypadNameReasonControl},
	} {
		err := ValidKeypadName(tc.in)
		if tc.reason == "" {
			assert.NoError(t, err, "%q", tc.in)
			continue
		}
		var ne KeypadNameError
		require.True(t, errors.As(err, &ne), "%q: %v", tc.in, err)
		assert.Equal(t, tc.reason, ne.Reason, "%q", tc.in)
		assert.Equal(t, "keypad code name: "+tc.reason, err.Error())
	}
	assert.Equal(t, 20, KeypadNameMax)
}

// seeded is a deterministic source of random bytes.
func seeded(seed uint64) io.Reader {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return rand.NewChaCha8(s)
}

func TestGenerateKeypadCodeUniform(t *testing.T) {
	t.Parallel()
	rnd := seeded(1)
	none := func(int) bool { return false }
	const n = 80 * 500
	prefixes := map[int]int{} // the first two digits: 80 values
	lastDigit := [10]int{}
	seen := map[int]bool{}
	for range n {
		code, err := GenerateKeypadCode(none, rnd)
		require.NoError(t, err)
		require.True(t, ValidKeypadCode(code), code)
		prefixes[code/10000]++
		lastDigit[code%10]++
		seen[code] = true
	}
	assert.Len(t, prefixes, 80)
	assert.NotContains(t, prefixes, 12)
	assert.Zero(t, lastDigit[0])
	// χ² with 79 degrees of freedom: 150 is far in the tail (p < 10⁻⁵).
	chi := 0.0
	for _, c := range prefixes {
		d := float64(c) - n/80
		chi += d * d / (n / 80)
	}
	assert.Less(t, chi, 150.0, "first two digits")
	chi = 0
	for d := 1; d <= 9; d++ {
		x := float64(lastDigit[d]) - n/9.0
		chi += x * x / (n / 9.0)
	}
	assert.Less(t, chi, 40.0, "last digit") // 8 degrees of freedom
	assert.Greater(t, len(seen), n*9/10, "few repeats among 40,000 of 524,880")
}

func TestGenerateKeypadCodeAvoidsCodesInUse(t *testing.T) {
	t.Parallel()
	used := make([]bool, 1_000_000)
	inUse := func(c int) bool { return used[c] }
	rng := rand.New(rand.NewPCG(7, 7))
	for range 2000 {
		used[keypadCodeAt(rng.IntN(keypadCodeCount))] = true
	}
	rnd := seeded(2)
	for range 5000 {
		code, err := GenerateKeypadCode(inUse, rnd)
		require.NoError(t, err)
		require.True(t, ValidKeypadCode(code), code)
		require.False(t, used[code], code)
	}

	// All but three codes in use: the random proposals fail, the crowded path finds the three,
	// each of them in turn.
	for i := range keypadCodeCount {
		used[keypadCodeAt(i)] = true
	}
	free := []int{111111, 468357, 999999}
	for _, c := range free {
		used[c] = false
	}
	got := map[int]int{}
	for seed := range 30 {
		code, err := GenerateKeypadCode(inUse, seeded(uint64(seed)))
		require.NoError(t, err)
		require.Contains(t, free, code)
		got[code]++
	}
	assert.Len(t, got, 3, "each free code can come out: %v", got)

	// All in use: an error, after a bounded number of questions.
	used[111111], used[468357], used[999999] = true, true, true
	calls := 0
	_, err := GenerateKeypadCode(func(c int) bool { calls++; return used[c] }, seeded(3))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrNoFreeKeypadCode)
	assert.Equal(t, keypadRandomTries+keypadCodeCount, calls)

	calls = 0
	_, err = GenerateKeypadCode(func(int) bool { calls++; return true }, seeded(4))
	assert.ErrorIs(t, err, ErrNoFreeKeypadCode, "a fake that marks everything, even invalid codes")
	assert.Equal(t, keypadRandomTries+keypadCodeCount, calls)
}

func TestGenerateKeypadCodeRandomSource(t *testing.T) {
	t.Parallel()
	// The same source gives the same codes.
	a, err := GenerateKeypadCode(func(int) bool { return false }, seeded(5))
	require.NoError(t, err)
	b, err := GenerateKeypadCode(func(int) bool { return false }, seeded(5))
	require.NoError(t, err)
	assert.Equal(t, a, b)

	// nil: crypto/rand.
	code, err := GenerateKeypadCode(func(int) bool { return false }, nil)
	require.NoError(t, err)
	assert.True(t, ValidKeypadCode(code))

	// A source that runs dry is an error, not a code.
	_, err = GenerateKeypadCode(func(int) bool { return false }, bytes.NewReader(nil))
	assert.ErrorIs(t, err, io.EOF)
	_, err = GenerateKeypadCode(func(int) bool { return false }, bytes.NewReader([]byte{1, 2, 3}))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)

	// A source that only ever gives numbers that must be rejected: bounded, then an error.
	calls := 0
	_, err = GenerateKeypadCode(func(int) bool { calls++; return false }, allOnes{})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrNoFreeKeypadCode)
	assert.Equal(t, keypadCodeCount, calls, "only the crowded path asked")

	// A known draw: index 0 is the smallest code.
	code, err = GenerateKeypadCode(func(int) bool { return false }, bytes.NewReader(make([]byte, 8)))
	require.NoError(t, err)
	assert.Equal(t, 111111, code)
}

type allOnes struct{}

func (allOnes) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0xff
	}
	return len(p), nil
}
