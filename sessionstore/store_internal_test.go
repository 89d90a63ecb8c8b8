package sessionstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Decoded session values are remembered by their bytes, only when none of them can be changed
// by whoever gets them, and the cache never grows past its size.
func TestDecodeValuesRemembersImmutableValues(t *testing.T) {
	t.Parallel()
	plain := map[any]any{LoginIDKey: int64(7), RememberKey: true, "flash": "Saved", "attempts": 2}
	data, err := encodeValues(plain)
	require.NoError(t, err)
	first, err := decodeValues(data)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{LoginIDKey: int64(7), RememberKey: true, "flash": "Saved", "attempts": 2}, first)
	again, err := decodeValues(data)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	_, cached := decodedValues.get(data)
	assert.True(t, cached)

	withBytes, err := encodeValues(map[any]any{LoginIDKey: int64(7), "sealed": []byte{1, 2, 3}})
	require.NoError(t, err)
	got, err := decodeValues(withBytes)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, got["sealed"])
	_, cached = decodedValues.get(withBytes)
	assert.False(t, cached, "a []byte could be changed by whoever gets it")

	_, err = decodeValues([]byte("not gob"))
	assert.Error(t, err)

	small := valuesCache{max: 2}
	for _, s := range []string{"a", "b", "c"} {
		small.put([]byte(s), map[string]any{"k": s})
	}
	assert.LessOrEqual(t, len(small.m), 2)
	_, ok := small.get([]byte("c"))
	assert.True(t, ok, "the newest is kept")
}
