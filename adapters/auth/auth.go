// Package auth says who is calling: principals with a role and an
// organisation, the local token issuer of the embedded default, and the
// verification of bearer tokens.
package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Role is what a principal may do.
type Role string

// Roles.
const (
	RoleReporter      Role = "reporter"
	RoleSafetyOfficer Role = "safety_officer"
	RoleColleague     Role = "colleague"
	RolePolicyAnalyst Role = "policy_analyst"
	RoleAdmin         Role = "admin"
	// RolePeerSupporter is a peer-support contact of an organisation: a
	// colleague trained to support clinicians after an incident. They see
	// their organisation's peer-support requests and nothing else.
	RolePeerSupporter Role = "peer_supporter"
)

// Roles lists every role.
func Roles() []Role {
	return []Role{RoleReporter, RoleSafetyOfficer, RoleColleague, RolePolicyAnalyst, RoleAdmin, RolePeerSupporter}
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Principal is an authenticated caller.
type Principal struct {
	// Subject is the caller's pseudonymous id at the identity provider.
	Subject      string `json:"sub"`
	Role         Role   `json:"role"`
	Organisation string `json:"org,omitempty"`
	Specialty    string `json:"specialty,omitempty"`
	Region       string `json:"region,omitempty"`
}

type principalKey struct{}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal stored in ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// ErrUnauthenticated is wrapped by every verification failure.
var ErrUnauthenticated = errors.New("unauthenticated")

// Verifier checks a bearer token and returns its principal.
type Verifier interface {
	Verify(ctx context.Context, token string) (Principal, error)
}

// claims are the JWT claims Safesignal reads and writes.
type claims struct {
	jwt.RegisteredClaims
	Role         Role   `json:"role"`
	Organisation string `json:"org,omitempty"`
	Specialty    string `json:"specialty,omitempty"`
	Region       string `json:"region,omitempty"`
}

// LocalIssuer is the embedded default's token issuer: an Ed25519 key kept
// in the data directory. It is for development and single-node use;
// production uses the organisation's identity provider.
type LocalIssuer struct {
	key      ed25519.PrivateKey
	kid      string
	issuer   string
	audience string
}

// Local issuer constants.
const (
	LocalIssuerName = "safesignal-local"
	LocalAudience   = "safesignal"
	keyFile         = "local-issuer.pem"
)

// LoadOrCreateLocalIssuer reads the signing key under dir/auth, creating
// it on first use (atomically, so two processes agree on one key).
func LoadOrCreateLocalIssuer(dir string) (*LocalIssuer, error) {
	authDir := filepath.Join(dir, "auth")
	path := filepath.Join(authDir, keyFile)
	key, err := readKey(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(authDir, 0o700); err != nil {
			return nil, fmt.Errorf("local issuer: %w", err)
		}
		if err := writeNewKey(path); err != nil {
			return nil, err
		}
		key, err = readKey(path)
	}
	if err != nil {
		return nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	return &LocalIssuer{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:12]), issuer: LocalIssuerName, audience: LocalAudience}, nil
}

func readKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("local issuer key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("local issuer key %s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("local issuer key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("local issuer key %s: not an Ed25519 key", path)
	}
	return key, nil
}

func writeNewKey(path string) error {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("local issuer: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("local issuer: encode key: %w", err)
	}
	return installFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// Issue signs a token for p, valid for ttl.
func (i *LocalIssuer) Issue(p Principal, ttl time.Duration) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	now := time.Now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   p.Subject,
			Audience:  jwt.ClaimStrings{i.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Role: p.Role, Organisation: p.Organisation, Specialty: p.Specialty, Region: p.Region,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = i.kid
	s, err := tok.SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Verifier returns a verifier of the issuer's tokens.
func (i *LocalIssuer) Verifier() Verifier {
	pub := i.key.Public().(ed25519.PublicKey)
	return &keyVerifier{
		keys:     map[string]any{i.kid: pub},
		issuer:   i.issuer,
		audience: i.audience,
		methods:  []string{jwt.SigningMethodEdDSA.Alg()},
	}
}

// MaxTokenLength bounds a bearer token; a longer one is refused unparsed.
const MaxTokenLength = 8 << 10

// keyVerifier verifies tokens against a fixed set of keys by kid.
type keyVerifier struct {
	keys     map[string]any
	issuer   string
	audience string
	methods  []string
}

func (v *keyVerifier) Verify(_ context.Context, token string) (Principal, error) {
	if len(token) > MaxTokenLength {
		return Principal{}, fmt.Errorf("%w: token too long", ErrUnauthenticated)
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := v.keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return key, nil
	},
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30*time.Second),
	)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	p := Principal{Subject: c.Subject, Role: c.Role, Organisation: c.Organisation, Specialty: c.Specialty, Region: c.Region}
	if err := p.validate(); err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	return p, nil
}

func (p Principal) validate() error {
	switch {
	case p.Subject == "" || len(p.Subject) > 128:
		return errors.New("subject must be 1 to 128 bytes")
	case !p.Role.Valid():
		return fmt.Errorf("unknown role %q", p.Role)
	case (p.Role == RoleSafetyOfficer || p.Role == RoleReporter || p.Role == RolePeerSupporter) && p.Organisation == "":
		return fmt.Errorf("role %s needs an organisation", p.Role)
	case len(p.Organisation) > 64 || len(p.Specialty) > 64 || len(p.Region) > 8:
		return errors.New("organisation, specialty or region too long")
	}
	return nil
}
