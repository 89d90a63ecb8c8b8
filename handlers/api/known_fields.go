package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// decodeKnownFields reads the body, one JSON object, into dst: a struct whose json tags are the
// fields the route takes (as json.RawMessage, each then read with the message of what it must
// be) and the read-only fields a script may send back as it read them (ignored). A field it does
// not name is 400 naming it and the known ones (a misspelt field must not be dropped silently),
// as is anything but an object, with example.
func decodeKnownFields(c echo.Context, dst any, known []string, example string) error {
	notObject := echo.NewHTTPError(http.StatusBadRequest, "The body must be a JSON object like "+example)
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return notObject
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return notObject
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if quoted, ok := strings.CutPrefix(fmt.Sprint(err), "json: unknown field "); ok {
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = quoted
		}
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s is not a field Portier knows here (known: %s)", name, strings.Join(known, ", ")))
	}
	if err != nil {
		return notObject
	}
	return nil
}
