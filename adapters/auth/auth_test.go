package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/safesignal/safesignal/adapters/auth"
)

func issuer(t *testing.T) (*auth.LocalIssuer, string) {
	t.Helper()
	dir := t.TempDir()
	iss, err := auth.LoadOrCreateLocalIssuer(dir)
	if err != nil {
		t.Fatal(err)
	}
	return iss, dir
}

func localKey(t *testing.T, dir string) ed25519.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "auth", "local-issuer.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PrivateKey)
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header["kid"].(string)
}

func TestIssueAndVerify(t *testing.T) {
	t.Parallel()
	iss, _ := issuer(t)
	want := auth.Principal{Subject: "alice", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht", Specialty: "surgery", Region: "NL-UT"}
	tok, err := iss.Issue(want, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := iss.Verifier().Verify(context.Background(), tok)
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
}

func TestIssueRefusesIncompletePrincipals(t *testing.T) {
	t.Parallel()
	iss, _ := issuer(t)
	for _, p := range []auth.Principal{
		{Role: auth.RoleAdmin},
		{Subject: "x", Role: "root"},
		{Subject: "x", Role: auth.RoleReporter},
		{Subject: "x", Role: auth.RoleSafetyOfficer},
		{Subject: strings.Repeat("x", 129), Role: auth.RoleAdmin},
	} {
		if _, err := iss.Issue(p, time.Hour); err == nil {
			t.Errorf("issued a token for %+v", p)
		}
	}
}

// TestTokenAttacks: every forged or broken token is refused.
func TestTokenAttacks(t *testing.T) {
	t.Parallel()
	iss, dir := issuer(t)
	key := localKey(t, dir)
	good, err := iss.Issue(auth.Principal{Subject: "alice", Role: auth.RoleAdmin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	kid := kidOf(t, good)
	now := time.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": auth.LocalIssuerName, "aud": auth.LocalAudience, "sub": "mallory", "role": "admin", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(c jwt.MapClaims, kidHeader string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
		tok.Header["kid"] = kidHeader
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pub := key.Public().(ed25519.PublicKey)
	hsWithPublicKey := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil))
		tok.Header["kid"] = kid
		s, err := tok.SignedString([]byte(pub))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	algNone := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil))
		tok.Header["kid"] = kid
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	foreign := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(nil))
		tok.Header["kid"] = kid
		s, _ := tok.SignedString(otherKey)
		return s
	}
	hugeHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","kid":"` + strings.Repeat("k", 100<<10) + `"}`))
	parts := strings.Split(good, ".")
	tests := []struct {
		name  string
		token string
	}{
		{"alg none", algNone()},
		{"HS256 signed with the public key", hsWithPublicKey()},
		{"signed by another key", foreign()},
		{"expired", sign(claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }), kid)},
		{"no exp", sign(claims(func(c jwt.MapClaims) { delete(c, "exp") }), kid)},
		{"issued in the future", sign(claims(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }), kid)},
		{"wrong issuer", sign(claims(func(c jwt.MapClaims) { c["iss"] = "evil" }), kid)},
		{"wrong audience", sign(claims(func(c jwt.MapClaims) { c["aud"] = "other-app" }), kid)},
		{"unknown kid", sign(claims(nil), "nope")},
		{"no kid", sign(claims(nil), "")},
		{"unknown role", sign(claims(func(c jwt.MapClaims) { c["role"] = "root" }), kid)},
		{"no subject", sign(claims(func(c jwt.MapClaims) { delete(c, "sub") }), kid)},
		{"100 KB header", hugeHeader + "." + parts[1] + "." + parts[2]},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"alice","role":"admin"}`)) + "." + parts[2]},
		{"garbage", "a.b.c"},
		{"empty", ""},
	}
	v := iss.Verifier()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := v.Verify(context.Background(), tc.token)
			if !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("accepted (%+v) or wrong error: %v", p, err)
			}
		})
	}
}

func TestLocalIssuerKeyIsCreatedOnceAndKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var wg sync.WaitGroup
	issuers := make([]*auth.LocalIssuer, 8)
	for i := range issuers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			iss, err := auth.LoadOrCreateLocalIssuer(dir)
			if err != nil {
				t.Error(err)
			}
			issuers[i] = iss
		}()
	}
	wg.Wait()
	tok, err := issuers[0].Issue(auth.Principal{Subject: "a", Role: auth.RoleAdmin}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i, iss := range issuers {
		if _, err := iss.Verifier().Verify(context.Background(), tok); err != nil {
			t.Fatalf("issuer %d does not share the key: %v", i, err)
		}
	}
	info, err := os.Stat(filepath.Join(dir, "auth", "local-issuer.pem"))
	if err != nil || info.Mode().Perm()&0o077 != 0 {
		t.Fatalf("key file readable by others or missing: %v %v", info.Mode(), err)
	}
}

func TestSecretIsCreatedOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets", "s.key")
	a, err := auth.LoadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.LoadOrCreateSecret(path)
	if err != nil || string(a) != string(b) || len(a) != 32 {
		t.Fatalf("secret changed or short: %x %x %v", a, b, err)
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.LoadOrCreateSecret(path); err == nil {
		t.Fatal("a malformed secret was accepted")
	}
}
