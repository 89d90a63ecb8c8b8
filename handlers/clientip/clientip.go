// Package clientip finds the address of the client behind a request: the TCP peer, or, when
// the peer is a trusted reverse proxy, the address that proxy put in X-Forwarded-For. The
// HTML pages and the Web API use the same Resolver, so throttles and the audit trail agree.
package clientip

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver knows which peers are reverse proxies whose X-Forwarded-For is believed.
type Resolver struct {
	TrustedProxies []netip.Prefix
}

// ParseCIDRs reads a comma-separated list of CIDRs ("10.0.0.0/8, ::1/128"); a bare address
// counts as a single-host prefix.
func ParseCIDRs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR like 10.0.0.0/8 nor an IP address", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// ClientIP returns the client's address. X-Forwarded-For is read only when the TCP peer is a
// trusted proxy, from the right: each hop a trusted proxy appended is skipped, and the first
// address that is not a trusted proxy is the client (addresses further left are whatever the
// client chose to send). It has echo.IPExtractor's signature.
func (r Resolver) ClientIP(req *http.Request) string {
	peer := req.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !r.trusted(addr) {
		return peer
	}
	var hops []string
	for _, h := range req.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := addr
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage from further left is not believed
		}
		client = hop.Unmap()
		if !r.trusted(client) {
			break
		}
	}
	return client.String()
}

func (r Resolver) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type contextKey struct{}

// NewContext returns ctx carrying ip, the client's address as a Resolver found it, for
// FromRequest: the address is worked out once per request and read wherever it is needed.
func NewContext(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, contextKey{}, ip)
}

// FromRequest is the client's address that NewContext put in the request's context: the peer,
// or what a trusted proxy forwarded. Without it (a request that did not pass the middleware),
// it is the TCP peer: anyone can set X-Forwarded-For, so it is believed from trusted peers only.
func FromRequest(r *http.Request) string {
	if ip, ok := r.Context().Value(contextKey{}).(string); ok {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
