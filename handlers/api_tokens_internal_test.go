package handlers

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"portier/models"
)

// Whatever the create form posts, a form without errors names a description of one line and
// at most 100 characters, known scopes each once, and an expiry in the future.
func FuzzParseTokenForm(f *testing.F) {
	f.Add("Home Assistant", "account,smartlock.log", "2026-04-01")
	f.Add(" ", "", "")
	f.Add("x\ny", "smartlock.action,smartlock.action", "2026-03-02")
	f.Add("ü", "webhook.decentral", "01.04.2026")
	zone, err := time.LoadLocation("Europe/Vienna")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, description, scopes, expires string) {
		form := map[string][]string{"description": {description}, "scope": strings.Split(scopes, ","), "expires": {expires}}
		got, errs := parseTokenForm(form, zone, now)
		if len(errs) > 0 {
			return
		}
		if got.description == "" || utf8.RuneCountInString(got.description) > models.APIDescriptionMax || strings.ContainsAny(got.description, "\r\n\x00") {
			t.Fatalf("description %q accepted", got.description)
		}
		if len(got.scopes) == 0 {
			t.Fatal("no scope accepted")
		}
		for i, s := range got.scopes {
			if !slices.Contains(models.AllScopes, s) || slices.Contains(got.scopes[:i], s) {
				t.Fatalf("scopes %v accepted", got.scopes)
			}
		}
		if got.expires != nil && !got.expires.After(now) {
			t.Fatalf("expiry %v accepted at %v", got.expires, now)
		}
		if (got.expires == nil) != (strings.TrimSpace(expires) == "") {
			t.Fatalf("expires %q read as %v", expires, got.expires)
		}
	})
}
