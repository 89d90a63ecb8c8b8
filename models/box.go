package models

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// BoxSetup is what the Set up Nuki Box wizard asks for besides the name (PRODUCT.md B1): where
// the box is and its PIN, kept only as a hash.
type BoxSetup struct {
	BoxLocation
	PINHash string
}

// BoxLocation is where a box is: a text (street, door) and optional coordinates.
type BoxLocation struct {
	Text      string
	Latitude  *float64
	Longitude *float64
}

// ValidateBoxPIN checks a box PIN: exactly 4 digits.
func ValidateBoxPIN(pin string) string {
	if len(pin) != 4 || strings.Trim(pin, "0123456789") != "" {
		return "invalid.box_pin"
	}
	return ""
}

// ParseBoxLocation reads the location form: a text of at most 200 characters and optional
// coordinates, both or neither, in decimal degrees. Errors are message keys by field.
func ParseBoxLocation(text, lat, lon string) (BoxLocation, ValidationErrors) {
	l := BoxLocation{Text: strings.Join(strings.Fields(text), " ")}
	errs := ValidationErrors{}
	if utf8.RuneCountInString(l.Text) > 200 {
		errs.Add("location", "invalid.too_long")
	}
	lat, lon = strings.TrimSpace(strings.ReplaceAll(lat, ",", ".")), strings.TrimSpace(strings.ReplaceAll(lon, ",", "."))
	if lat == "" && lon == "" {
		return l, errs
	}
	la, err1 := strconv.ParseFloat(lat, 64)
	lo, err2 := strconv.ParseFloat(lon, 64)
	if err1 != nil || la < -90 || la > 90 {
		errs.Add("latitude", "invalid.latitude")
	}
	if err2 != nil || lo < -180 || lo > 180 {
		errs.Add("longitude", "invalid.longitude")
	}
	if len(errs) == 0 {
		l.Latitude, l.Longitude = &la, &lo
	}
	return l, errs
}
