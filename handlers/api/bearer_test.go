package api

import (
	"strings"
	"testing"
)

func TestBearerTokenForms(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Bearer abc":    "abc",
		"bearer abc":    "abc",
		"Bearer: abc":   "abc",
		"BEARER:abc":    "abc",
		"abc":           "abc",
		" Bearer  abc ": "abc",
		"":              "",
		"Bearer":        "",
		"Bearer a b":    "",
		"Basic abc":     "",
	} {
		if got := bearerToken(in); got != want {
			t.Errorf("bearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "Bearer: abc", "abc", "", "bearer", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok := bearerToken(h)
		if strings.ContainsAny(tok, " \t") || len(tok) > 200 {
			t.Fatalf("bearerToken(%q) = %q", h, tok)
		}
	})
}
