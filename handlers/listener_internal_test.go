package handlers

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/handlers/api"
)

// Both listeners recover from a panic in a handler with a 500 (the API's JSON error on API
// routes), log it with its stack, log the request, and refuse an announced oversized body with
// 413 before any handler runs.
func TestListenersRecoverLimitAndLog(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	h := &Handler{Log: slog.New(slog.NewTextHandler(&logged, nil))}
	a := &api.API{Log: h.Log}
	main := h.Routes(a)
	apiOnly := h.APIRoutes(a)
	for _, tc := range []struct {
		name       string
		e          *echo.Echo
		prefix     string
		wantAPIErr bool
	}{{"main listener, page", main, "", false}, {"main listener, API", main, "/api", true}, {"API listener", apiOnly, "", true}} {
		logged.Reset()
		tc.e.GET(tc.prefix+"/boom", func(echo.Context) error { panic("boom") })
		tc.e.POST(tc.prefix+"/big", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

		rec := httptest.NewRecorder()
		tc.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.prefix+"/boom", nil))
		assert.Equal(t, http.StatusInternalServerError, rec.Code, tc.name)
		assert.Contains(t, logged.String(), `msg=panic`, tc.name)
		assert.Contains(t, logged.String(), `route=`+tc.prefix+`/boom status=500`, tc.name)
		if tc.wantAPIErr {
			var body api.Error
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), tc.name)
			assert.NotContains(t, body.DetailMessage, "boom", "%s: the panic stays in the log", tc.name)
		}

		rec = httptest.NewRecorder()
		tc.e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.prefix+"/big", strings.NewReader(strings.Repeat("a", MaxRequestBody+1))))
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, tc.name)
		assert.Contains(t, logged.String(), `route=`+tc.prefix+`/big status=413`, tc.name)
		if tc.wantAPIErr {
			var body api.Error
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), tc.name)
			assert.Contains(t, body.DetailMessage, "larger than 1 MB", tc.name)
		}
	}
}
