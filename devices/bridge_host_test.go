package devices

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Only loopback, RFC 1918, RFC 4193 and link-local addresses are bridge hosts; every address a
// name resolves to must be one.
func TestResolveBridgeHost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, host := range []string{"127.0.0.1", "::1", "10.1.2.3", "172.16.0.9", "192.168.1.20", "fd00::20", "fe80::1", "169.254.3.4", "::ffff:192.168.1.20", "localhost"} {
		ip, err := ResolveBridgeHost(ctx, host)
		assert.NoError(t, err, host)
		assert.True(t, ip.IsValid(), host)
	}
	for _, host := range []string{"8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "100.64.0.1", "172.32.0.1", "0.0.0.0", "::", "224.0.0.1"} {
		_, err := ResolveBridgeHost(ctx, host)
		assert.ErrorIs(t, err, ErrBridgeHostNotPrivate, host)
	}
}
