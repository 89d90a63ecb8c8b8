package handlers

import (
	"net/url"
	"strings"
	"testing"
)

func FuzzSafeNextStaysOnSite(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c", "//evil.example", "/\\evil", "https://evil.example", "javascript:alert(1)", "/%2F%2Fevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeNext(%q) = %q has a host", next, got)
		}
	})
}
