package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateSecret returns the 32-byte secret kept hex-encoded in path,
// creating it on first use. Replicas that share a log must share it.
func LoadOrCreateSecret(path string) ([]byte, error) {
	secret, err := readSecret(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		if err := installFile(path, []byte(hex.EncodeToString(b[:])+"\n")); err != nil {
			return nil, err
		}
		secret, err = readSecret(path)
	}
	return secret, err
}

func readSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(secret) < 32 {
		return nil, fmt.Errorf("secret %s: want at least 32 hex-encoded bytes", path)
	}
	return secret, nil
}

// installFile writes data to path only if path does not exist yet, durably
// and atomically: a concurrent creator's file wins and both read it.
func installFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("install %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("install %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("install %s: %w", path, err)
	}
	return nil
}
