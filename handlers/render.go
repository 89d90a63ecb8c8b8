package handlers

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"strconv"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"portier/views/layout"
)

// isHTMX reports whether the request came from htmx (and so wants a fragment, not a page). The
// back button asks htmx for a page again (it keeps no history cache): that wants the page.
func isHTMX(c echo.Context) bool {
	r := c.Request()
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true" &&
		r.Header.Get("HX-History-Restore-Request") != "true"
}

// render writes component with status: the full page, or for htmx requests only the fragment
// inside the layout. It renders into a buffer first so a failing template yields a clean 500.
func render(c echo.Context, status int, component templ.Component) error {
	ctx := c.Request().Context()
	if isHTMX(c) {
		ctx = layout.WithPartial(ctx)
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := component.Render(ctx, buf); err != nil {
		return err
	}
	// The length is known: the answer goes out in one piece instead of chunks.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// renderBuffers keep the buffers pages are rendered into: a page is tens of KiB, and a new
// buffer grows to that size by copying itself several times on every request.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the largest buffer kept for the next page (a rare huge page does not
// pin its memory).
const maxPooledBuffer = 256 << 10

// putRenderBuffer returns buf to the pool once its bytes are written out (HTMLBlob writes
// them before it returns).
func putRenderBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBuffer {
		return
	}
	buf.Reset()
	renderBuffers.Put(buf)
}

// redirect answers a form post with a redirect to path (post/redirect/get). For htmx it uses
// HX-Redirect, which htmx follows with a full page load.
func redirect(c echo.Context, path string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", path)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// renderPNG answers with img as a PNG (the QR codes of the 2FA setup and the unit sheet).
func renderPNG(c echo.Context, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/png", buf.Bytes())
}
