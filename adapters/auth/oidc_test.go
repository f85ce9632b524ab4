package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/safesignal/safesignal/adapters/auth"
)

// provider is an OpenID Connect provider on loopback: a discovery document
// and a JWKS whose keys can be rotated, as Keycloak or Entra ID serve them.
type provider struct {
	srv  *httptest.Server
	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	p := &provider{keys: map[string]*rsa.PrivateKey{}}
	p.rotate(t, "key-1")
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/jwks",
			"authorization_endpoint": p.srv.URL + "/auth", "token_endpoint": p.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		var set jose.JSONWebKeySet
		for kid, k := range p.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) rotate(t *testing.T, kid string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.keys = map[string]*rsa.PrivateKey{kid: k}
	p.mu.Unlock()
}

func (p *provider) key(kid string) *rsa.PrivateKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[kid]
}

func (p *provider) claims(mod func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"iss": p.srv.URL, "aud": "safesignal", "sub": "u-123", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
		"org": "umc-utrecht", "realm_access": map[string]any{"roles": []any{"offline_access", "ss-officer"}},
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func (p *provider) sign(t *testing.T, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(p.key(kid))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keycloakConfig(p *provider) auth.OIDCConfig {
	return auth.OIDCConfig{
		Issuer: p.srv.URL, Audience: "safesignal",
		Claims:  auth.ClaimMapping{Role: "realm_access.roles", Organisation: "org"},
		RoleMap: map[string]auth.Role{"ss-officer": auth.RoleSafetyOfficer, "ss-admin": auth.RoleAdmin},
	}
}

func TestOIDCMapsClaimsAndFollowsKeyRotation(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	v, err := auth.NewOIDCVerifier(context.Background(), keycloakConfig(p))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(context.Background(), p.sign(t, "key-1", p.claims(nil)))
	want := auth.Principal{Subject: "u-123", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"}
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	// The provider rotates its key: new tokens verify without a restart.
	p.rotate(t, "key-2")
	if _, err := v.Verify(context.Background(), p.sign(t, "key-2", p.claims(nil))); err != nil {
		t.Fatalf("token signed with the rotated key: %v", err)
	}
}

func TestOIDCTokenAttacks(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	v, err := auth.NewOIDCVerifier(context.Background(), keycloakConfig(p))
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&p.key("key-1").PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	hs := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, p.claims(nil))
		tok.Header["kid"] = "key-1"
		s, _ := tok.SignedString(secret)
		return s
	}
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, p.claims(nil))
		tok.Header["kid"] = "key-1"
		s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	foreign := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, p.claims(nil))
		tok.Header["kid"] = "key-1"
		s, _ := tok.SignedString(other)
		return s
	}
	tests := []struct{ name, token string }{
		{"alg none", none()},
		{"HS256 with the public key", hs(pubDER)},
		{"signed by a stranger", foreign()},
		{"expired", p.sign(t, "key-1", p.claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }))},
		{"no exp", p.sign(t, "key-1", p.claims(func(c jwt.MapClaims) { delete(c, "exp") }))},
		{"wrong issuer", p.sign(t, "key-1", p.claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }))},
		{"wrong audience", p.sign(t, "key-1", p.claims(func(c jwt.MapClaims) { c["aud"] = "another-app" }))},
		{"unknown kid", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, p.claims(nil))
			tok.Header["kid"] = "key-9"
			s, _ := tok.SignedString(p.key("key-1"))
			return s
		}()},
		{"no known role", p.sign(t, "key-1", p.claims(func(c jwt.MapClaims) { c["realm_access"] = map[string]any{"roles": []any{"offline_access"}} }))},
		{"officer without organisation", p.sign(t, "key-1", p.claims(func(c jwt.MapClaims) { delete(c, "org") }))},
		{"100 KB header", strings.Repeat("e", 100<<10) + ".e30.sig"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if pr, err := v.Verify(context.Background(), tc.token); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("accepted (%+v) or wrong error: %v", pr, err)
			}
		})
	}
}

func TestOIDCRefusesSymmetricAlgorithms(t *testing.T) {
	t.Parallel()
	p := newProvider(t)
	for _, algs := range [][]string{{"HS256"}, {"RS256", "hs512"}, {"none"}} {
		cfg := keycloakConfig(p)
		cfg.Algorithms = algs
		if _, err := auth.NewOIDCVerifier(context.Background(), cfg); err == nil {
			t.Errorf("algorithms %v were accepted", algs)
		}
	}
}
