package handlers

import (
	"net/http"
	"strings"
)

// ContentSecurityPolicy allows only our own scripts and styles: no inline code, no eval.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// securityHeaders sets the headers every response carries, errors included. It runs outside
// the router so that nothing (404, 405, 500, a cross-origin refusal) can skip it.
func securityHeaders(https bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		// Pages are personal and change with every action; static files override this.
		h.Set("Cache-Control", "no-store")
		if https || r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// cleanSlashes folds repeated slashes in the path ("//smartlock" → "/smartlock") without a
// redirect: some API clients join base URL and path with one slash too many.
func cleanSlashes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "//") {
			p := r.URL.Path
			for strings.Contains(p, "//") {
				p = strings.ReplaceAll(p, "//", "/")
			}
			r.URL.Path = p
			r.URL.RawPath = ""
		}
		next.ServeHTTP(w, r)
	})
}

// crossOriginProtection refuses cross-site state-changing requests (Go's
// http.CrossOriginProtection: Sec-Fetch-Site, then Origin against Host). trusted is an extra
// origin such as the public base URL behind a reverse proxy.
func crossOriginProtection(trusted string, deny http.Handler, next http.Handler) (http.Handler, error) {
	cop := http.NewCrossOriginProtection()
	if trusted != "" {
		if err := cop.AddTrustedOrigin(trusted); err != nil {
			return nil, err
		}
	}
	cop.SetDenyHandler(deny)
	return cop.Handler(next), nil
}
