package handlers_test

import (
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The printable sheet of a unit carries a QR code of its link, and is printed in the language
// chosen for it, whatever the manager's (issue 20, item 16).
func TestUnitSheetHasAQRCodeAndALanguage(t *testing.T) {
	t.Parallel()
	f := newUnitFixture(t)
	unitID, code := f.addUnit(t, "Top 4")
	sheet := fmt.Sprintf("%s/units/%d/sheet", f.address, unitID)

	res := f.manager.Get(sheet)
	require.Equal(t, http.StatusOK, res.StatusCode)
	doc := res.Doc(t)
	lang, _ := doc.Find("html").Attr("lang")
	assert.Equal(t, "en", lang, "the manager's language without a choice")
	link := res.TestID(t, "unit-link")
	src, ok := doc.Find(`[data-testid="unit-qr"]`).Attr("src")
	require.True(t, ok)

	// The QR code is the sheet's link, drawn by Portier.
	img := f.manager.Get(src)
	require.Equal(t, http.StatusOK, img.StatusCode)
	assert.Equal(t, "image/png", img.Header.Get("Content-Type"))
	got, err := png.Decode(strings.NewReader(img.Body))
	require.NoError(t, err)
	want, err := qr.Encode(link, qr.M, qr.Auto)
	require.NoError(t, err)
	scaled, err := barcode.Scale(want, 400, 400)
	require.NoError(t, err)
	assert.True(t, samePixels(got, scaled), "the QR code encodes %s", link)
	assert.Contains(t, link, "/unit?code="+url.QueryEscape(code))

	// In German, for a party that reads German; an unknown language is the manager's.
	res = f.manager.Get(sheet + "?lang=de")
	require.Equal(t, http.StatusOK, res.StatusCode)
	lang, _ = res.Doc(t).Find("html").Attr("lang")
	assert.Equal(t, "de", lang)
	assert.Contains(t, res.Body, "Sprache des Blatts")
	assert.Contains(t, res.Body, "scannen Sie diesen Code")
	assert.Equal(t, code, res.TestID(t, "unit-code"), "the same code")
	current := res.Doc(t).Find(`[data-testid="sheet-languages"] [aria-current="page"]`).Text()
	assert.Equal(t, "Deutsch", current)
	lang, _ = f.manager.Get(sheet + "?lang=xx").Doc(t).Find("html").Attr("lang")
	assert.Equal(t, "en", lang)
	lang, _ = f.manager.Get(f.address).Doc(t).Find("html").Attr("lang")
	assert.Equal(t, "en", lang, "the manager's pages stay in their language")

	// A redeemed unit's sheet and code are gone; another account knows neither.
	other := newUnitFixtureIn(t, f.app, "Other", "other@example.com", "Elsewhere", "Other box", "Other lock")
	assert.Equal(t, http.StatusNotFound, other.manager.Get(src).StatusCode)
	res = redeemByEmail(t, f.app, f.app.NewClient(), redeemForm(code, "Maria Müller", "maria@example.com"))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	assert.Equal(t, http.StatusGone, f.manager.Get(src).StatusCode)
	assert.Equal(t, http.StatusGone, f.manager.Get(sheet).StatusCode)
}

// samePixels reports whether two images have the same size and the same black and white.
func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			ra, _, _, _ := a.At(x, y).RGBA()
			rb, _, _, _ := b.At(x, y).RGBA()
			if ra>>15 != rb>>15 {
				return false
			}
		}
	}
	return true
}
