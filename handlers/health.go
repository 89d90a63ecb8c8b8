package handlers

import (
	"context"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portier/static"
)

// Health is GET /healthz: 200 while both database pools answer, 503 otherwise.
func (h *Handler) Health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.Store.DB().Ping(ctx); err != nil {
		h.Log.Error("health check: database unusable", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}

// Static serves the embedded files. The URL holds the content version, so a matching version
// may be cached for good; an old one is served but must be revalidated.
func (h *Handler) Static(c echo.Context) error {
	name := c.Param("*")
	if name == "" || strings.HasSuffix(name, "/") || strings.Contains(name, "..") {
		return echo.ErrNotFound
	}
	if c.Param("version") == static.Version {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "no-cache")
	}
	if st, err := fs.Stat(static.Files, name); err != nil || st.IsDir() {
		return echo.ErrNotFound
	}
	http.ServeFileFS(c.Response(), c.Request(), static.Files, name)
	return nil
}
