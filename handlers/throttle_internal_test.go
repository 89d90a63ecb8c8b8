package handlers

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// IPv6 clients are counted by their /64, which one subscriber holds whole; IPv4 by address.
func TestThrottleAddress(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "198.51.100.7", throttleAddress("198.51.100.7"))
	assert.Equal(t, "2001:db8:1:2::/64", throttleAddress("2001:db8:1:2:aaaa:bbbb:cccc:dddd"))
	assert.Equal(t, throttleAddress("2001:db8:1:2::1"), throttleAddress("2001:db8:1:2:ffff::9"))
	assert.NotEqual(t, throttleAddress("2001:db8:1:2::1"), throttleAddress("2001:db8:1:3::1"))
	assert.Equal(t, "192.0.2.1", throttleAddress("::ffff:192.0.2.1"))
	assert.Equal(t, "not an address", throttleAddress("not an address"))
}
