package auth

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SecretsFileName is the secrets file inside the data directory (mode 0600).
const SecretsFileName = "secrets.json"

// Secrets are the keys Portier generates on first run and never stores in the database.
type Secrets struct {
	// EncryptionKey (32 bytes, hex) encrypts secrets at rest such as TOTP seeds.
	EncryptionKey string `json:"encryption_key"`
}

// EncryptionKeyBytes decodes the encryption key.
func (s Secrets) EncryptionKeyBytes() ([]byte, error) {
	k, err := hex.DecodeString(s.EncryptionKey)
	if err != nil || len(k) != 32 {
		return nil, errors.New("encryption_key must be 64 hex characters")
	}
	return k, nil
}

// LoadOrCreateSecrets reads dir/secrets.json, creating it with fresh random keys (mode 0600)
// when it does not exist. A secrets file readable by others is refused.
func LoadOrCreateSecrets(dir string) (Secrets, error) {
	path := filepath.Join(dir, SecretsFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return Secrets{}, err
		}
		s := Secrets{EncryptionKey: hex.EncodeToString(key)}
		out, _ := json.MarshalIndent(s, "", "  ")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateSecrets(dir) // another process created it first
		}
		if err != nil {
			return Secrets{}, err
		}
		if _, err := f.Write(append(out, '\n')); err != nil {
			f.Close()
			return Secrets{}, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return Secrets{}, err
		}
		return s, f.Close()
	}
	if err != nil {
		return Secrets{}, err
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return Secrets{}, fmt.Errorf("%s is readable by other users (mode %o); run: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	var s Secrets
	if err := json.Unmarshal(b, &s); err != nil {
		return Secrets{}, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := s.EncryptionKeyBytes(); err != nil {
		return Secrets{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
