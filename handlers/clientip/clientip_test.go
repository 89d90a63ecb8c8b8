package clientip

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted, err := ParseCIDRs("10.0.0.0/8, 2001:db8::1, 192.168.1.0/24")
	require.NoError(t, err)
	r := Resolver{TrustedProxies: trusted}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer: XFF ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer without XFF", "10.1.2.3:5000", nil, "10.1.2.3"},
		{"trusted peer: right-most hop", "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"spoofed left part ignored", "10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops skipped", "10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.1, 192.168.1.7"}, "198.51.100.1"},
		{"several headers are one list", "10.1.2.3:5000", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"garbage stops the walk", "10.1.2.3:5000", []string{"198.51.100.1, not-an-ip"}, "10.1.2.3"},
		{"IPv6 proxy", "[2001:db8::1]:443", []string{"2001:db8:ffff::5"}, "2001:db8:ffff::5"},
		{"all hops trusted: left-most", "10.1.2.3:5000", []string{"10.9.9.9"}, "10.9.9.9"},
	} {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		assert.Equal(t, tc.want, r.ClientIP(req), tc.name)
	}
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "10.1.2.3:5000"
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	assert.Equal(t, "10.1.2.3", Resolver{}.ClientIP(req), "no trusted proxies: the peer")

	_, err = ParseCIDRs("10.0.0.0/8, nonsense")
	assert.Error(t, err)
}
