package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// ErrDecrypt means a sealed value was altered, belongs to another record, or was sealed under
// another key.
var ErrDecrypt = errors.New("sealed value cannot be opened")

// SecretBox protects secrets at rest with the key from the secrets file, which never enters
// the database: AES-256-GCM for values Portier must read back (TOTP seeds), HMAC-SHA-256 for
// values it only compares (recovery codes).
type SecretBox struct {
	aead   cipher.AEAD
	macKey []byte
}

// NewSecretBox uses a 32-byte key.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != 32 {
		return nil, errors.New("the encryption key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// A separate key for the MACs, derived so that the two uses never share a key.
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("portier recovery code mac key"))
	return &SecretBox{aead: aead, macKey: mac.Sum(nil)}, nil
}

// Seal encrypts plain for the record named by context (e.g. "totp:login:7"): a value copied to
// another record does not open there.
func (b *SecretBox) Seal(plain []byte, context string) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return b.aead.Seal(nonce, nonce, plain, []byte(context))
}

// Open decrypts what Seal returned for the same context.
func (b *SecretBox) Open(sealed []byte, context string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrDecrypt
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// MAC returns the hex HMAC of value in context; equal inputs give equal outputs, so it can be
// looked up, and without the key a database dump does not let anyone test guesses.
func (b *SecretBox) MAC(context, value string) string {
	m := hmac.New(sha256.New, b.macKey)
	m.Write([]byte(context))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}
