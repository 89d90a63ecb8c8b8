package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// decodeBody reads the request's body into v: a pointer to a struct whose json tags are the
// fields the route takes, or to a list of them (a body that is a JSON list). Fields tagged
// api:"readonly" are the read-only fields a script may send back as it read them (taken, and
// ignored or checked by the route), and those tagged api:"unsupported" the specification's
// fields Portier refuses with a message of its own. Every create and update body of the Web API
// is read here, and answers 400 with the Nuki error body:
//   - a field v does not have, naming it and the fields the route takes (a misspelt
//     allowedUntilDate must not leave a permission unlimited);
//   - a value of the wrong type, naming the field and what it must be;
//   - anything but a JSON object (or list), with example.
func decodeBody(c echo.Context, v any, example string) error {
	shape, open := "a JSON object", byte('{')
	if t := reflect.TypeOf(v); t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Slice {
		shape, open = "a JSON list", '['
	}
	malformed := echo.NewHTTPError(http.StatusBadRequest, "The body must be "+shape+" like "+example)
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return malformed
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != open {
		return malformed
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		return nil
	}
	if quoted, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = quoted
		}
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s is not a field Portier knows here (known: %s)", name,
			strings.Join(writableFields(v), ", ")))
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		what := map[reflect.Kind]string{reflect.String: "a string", reflect.Bool: "true or false", reflect.Int: "a whole number",
			reflect.Int64: "a whole number", reflect.Slice: "a list"}[typeErr.Type.Kind()]
		if what == "" {
			what = "a " + typeErr.Type.String()
		}
		return echo.NewHTTPError(http.StatusBadRequest, typeErr.Field+" must be "+what)
	}
	return malformed
}

// writableFields are the json names of the fields of the struct v points to (or of a list's
// entry), but for those
// tagged api (read-only or unsupported).
func writableFields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return writableOf(t)
}

func writableOf(t reflect.Type) []string {
	var names []string
	if t.Kind() != reflect.Struct {
		return names
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			names = append(names, writableOf(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || f.Tag.Get("api") != "" {
			continue
		}
		names = append(names, name)
	}
	return names
}
