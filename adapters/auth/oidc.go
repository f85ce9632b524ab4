package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
)

// OIDCConfig configures verification of bearer tokens issued by an OpenID
// Connect provider (Keycloak, Entra ID, ...).
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its discovery document gives the
	// JWKS, and tokens must carry it as iss.
	Issuer string
	// Audience must be in the token's aud.
	Audience string
	// Algorithms is the allow-list of signing algorithms (default RS256,
	// PS256, ES256, EdDSA). "none" and the HS* family are never accepted.
	Algorithms []string
	// Claims names the token claims that carry role, organisation,
	// specialty and region; dotted paths reach into objects
	// (e.g. "realm_access.roles").
	Claims ClaimMapping
	// RoleMap maps the provider's role values to Safesignal roles. Empty:
	// the claim holds Safesignal role names.
	RoleMap map[string]Role
	// HTTPClient fetches discovery and keys (default http.DefaultClient).
	HTTPClient *http.Client
}

// ClaimMapping names the claims read from a token.
type ClaimMapping struct {
	Role, Organisation, Specialty, Region string
}

// DefaultClaimMapping reads role, org, specialty and region.
func DefaultClaimMapping() ClaimMapping {
	return ClaimMapping{Role: "role", Organisation: "org", Specialty: "specialty", Region: "region"}
}

// DefaultAlgorithms is the allow-list used when none is configured.
func DefaultAlgorithms() []string {
	return []string{oidc.RS256, oidc.PS256, oidc.ES256, oidc.EdDSA}
}

type oidcVerifier struct {
	verifier *oidc.IDTokenVerifier
	cfg      OIDCConfig
}

// NewOIDCVerifier discovers the provider and returns a verifier whose key
// set follows the provider's JWKS, fetching it again when a token names a
// key it does not know (key rotation).
func NewOIDCVerifier(ctx context.Context, cfg OIDCConfig) (Verifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("oidc: issuer and audience are required")
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = DefaultAlgorithms()
	}
	for _, alg := range cfg.Algorithms {
		if alg == "none" || strings.HasPrefix(strings.ToUpper(alg), "HS") {
			return nil, fmt.Errorf("oidc: algorithm %q is not allowed for bearer tokens", alg)
		}
	}
	if cfg.Claims == (ClaimMapping{}) {
		cfg.Claims = DefaultClaimMapping()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	ctx = oidc.ClientContext(ctx, cfg.HTTPClient)
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discover %s: %w", cfg.Issuer, err)
	}
	v := provider.VerifierContext(context.WithoutCancel(ctx), &oidc.Config{ClientID: cfg.Audience, SupportedSigningAlgs: cfg.Algorithms})
	return &oidcVerifier{verifier: v, cfg: cfg}, nil
}

func (v *oidcVerifier) Verify(ctx context.Context, token string) (Principal, error) {
	if len(token) > MaxTokenLength {
		return Principal{}, fmt.Errorf("%w: token too long", ErrUnauthenticated)
	}
	tok, err := v.verifier.Verify(ctx, token)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Principal{}, fmt.Errorf("%w: claims: %v", ErrUnauthenticated, err)
	}
	p := Principal{
		Subject:      tok.Subject,
		Role:         v.role(claimValues(claims, v.cfg.Claims.Role)),
		Organisation: firstString(claimValues(claims, v.cfg.Claims.Organisation)),
		Specialty:    firstString(claimValues(claims, v.cfg.Claims.Specialty)),
		Region:       firstString(claimValues(claims, v.cfg.Claims.Region)),
	}
	if err := p.validate(); err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	return p, nil
}

// role picks the Safesignal role among the claim's values, the most
// powerful first so that a user with several gets the one configured for
// them deliberately (admin before safety officer before the rest).
func (v *oidcVerifier) role(values []string) Role {
	var found []Role
	for _, val := range values {
		r := Role(val)
		if len(v.cfg.RoleMap) > 0 {
			r = v.cfg.RoleMap[val]
		}
		if r.Valid() {
			found = append(found, r)
		}
	}
	for _, r := range []Role{RoleAdmin, RoleSafetyOfficer, RolePolicyAnalyst, RolePeerSupporter, RoleColleague, RoleReporter} {
		if slices.Contains(found, r) {
			return r
		}
	}
	return ""
}

// claimValues follows a dotted path into the claims and returns the
// string values found there (a string, or the strings of an array).
func claimValues(claims map[string]any, path string) []string {
	if path == "" {
		return nil
	}
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	switch v := cur.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func firstString(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
