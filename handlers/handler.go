// Package handlers serves Portier's HTML pages and htmx fragments. routes.go lists every route
// with its policy; one file per resource holds the handlers.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"portier/app"
	"portier/auth"
	"portier/db"
	"portier/devices"
	"portier/handlers/clientip"
	"portier/handlers/policy"
	"portier/sessionstore"
)

// Config is what the operator chose with flags or environment variables.
type Config struct {
	BaseURL     *url.URL // how people reach Portier, e.g. http://127.0.0.1:8080
	AllowSignup bool
	// SMTPConfigured is false when emails are only written to the log (and kept in the outbox).
	SMTPConfigured bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client
	// (--trusted-proxies); from any other peer the header is ignored.
	TrustedProxies []netip.Prefix
}

// Handler holds every dependency of the HTTP handlers; main builds it.
type Handler struct {
	Store    *db.Store
	Devices  *devices.Manager
	Sessions *sessionstore.Store
	// App is the use cases (package app): the pages make their changes through it.
	App     *app.App
	Hasher  *auth.Hasher
	Secrets *auth.SecretBox // seals TOTP secrets, MACs recovery codes; key outside the database
	Now     func() time.Time
	// Sleep waits d or until ctx ends (nil: really waits); tests record the waits instead.
	Sleep  func(ctx context.Context, d time.Duration)
	Log    *slog.Logger
	Config Config

	policies *policy.Registry
}

// Policies returns the declared policy of every route (for the route-policy test).
func (h *Handler) Policies() *policy.Registry { return h.policies }

// sleep waits d, or until the request ends.
func (h *Handler) sleep(ctx context.Context, d time.Duration) {
	if h.Sleep != nil {
		h.Sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// withClientIP finds the client's address once per request (clientip.Resolver, from the
// configured trusted proxies) and keeps it in the request's context for clientIP.
func (h *Handler) withClientIP(next http.Handler) http.Handler {
	resolver := clientip.Resolver{TrustedProxies: h.Config.TrustedProxies}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(clientip.NewContext(r.Context(), resolver.ClientIP(r))))
	})
}

// clientIP is the client's address as withClientIP found it (clientip.FromRequest).
func clientIP(r *http.Request) string { return clientip.FromRequest(r) }

// absURL makes an absolute link from the configured base URL (for emails).
func (h *Handler) absURL(path string) string {
	u := *h.Config.BaseURL
	u.Path = singleJoin(u.Path, path)
	return u.String()
}

func singleJoin(a, b string) string {
	for len(a) > 0 && a[len(a)-1] == '/' {
		a = a[:len(a)-1]
	}
	return a + b
}
