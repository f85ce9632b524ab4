package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"go.uber.org/zap"
	"golang.org/x/oauth2"
)

// Sign-in through the organisation's OpenID Connect provider with the
// authorization code flow (RFC 6749 4.1) and PKCE (RFC 7636, S256). The
// browser carries state, nonce and the PKCE verifier in a short-lived
// cookie scoped to the callback; the callback checks state, exchanges the
// code with the verifier, checks the ID token's signature, audience,
// expiry and nonce, and then makes the ID token the session: the session
// cookie holds the provider-signed token, which the API's own verifier
// checks on every request (role and organisation come from its claims),
// so the UI can neither widen nor outlive what the provider granted.

// flowCookie carries one sign-in attempt.
const flowCookie = "ss_oidc"

// flowTTL bounds how long a user may take at the provider.
const flowTTL = 10 * time.Minute

// OIDCSignInConfig configures the code flow.
type OIDCSignInConfig struct {
	// Issuer is the provider's issuer URL.
	Issuer string
	// ClientID is Safesignal's client at the provider. It must be the
	// audience the API verifies (ID tokens carry the client id as aud).
	ClientID string
	// ClientSecret is empty for a public client (PKCE alone).
	ClientSecret string
	// PublicURL is where browsers reach this server, e.g.
	// https://safesignal.example.org; the redirect URL is
	// PublicURL + /ui/oidc/callback and must be registered at the provider.
	PublicURL string
	// Scopes beyond openid (default profile).
	Scopes []string
	// HTTPClient talks to the provider (default http.DefaultClient).
	HTTPClient *http.Client
}

// OIDCSignIn is a discovered provider ready for the code flow.
type OIDCSignIn struct {
	oauth      oauth2.Config
	idVerifier *oidc.IDTokenVerifier
	endSession string
	publicURL  string
	client     *http.Client
}

// NewOIDCSignIn discovers the provider.
func NewOIDCSignIn(ctx context.Context, cfg OIDCSignInConfig) (*OIDCSignIn, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, errors.New("oidc sign-in: issuer and client id are required")
	}
	pub, err := url.Parse(cfg.PublicURL)
	if err != nil || (pub.Scheme != "https" && pub.Scheme != "http") || pub.Host == "" || pub.RawQuery != "" || pub.Fragment != "" {
		return nil, fmt.Errorf("oidc sign-in: public URL %q must be an absolute http(s) URL without query", cfg.PublicURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTPClient), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc sign-in: discover %s: %w", cfg.Issuer, err)
	}
	var extra struct {
		EndSession string   `json:"end_session_endpoint"`
		Methods    []string `json:"code_challenge_methods_supported"`
	}
	if err := provider.Claims(&extra); err != nil {
		return nil, fmt.Errorf("oidc sign-in: discovery document: %w", err)
	}
	scopes := append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	if len(cfg.Scopes) == 0 {
		scopes = append(scopes, "profile")
	}
	base := strings.TrimSuffix(pub.String(), "/")
	return &OIDCSignIn{
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  base + "/ui/oidc/callback",
			Scopes:       scopes,
		},
		idVerifier: provider.VerifierContext(context.WithoutCancel(ctx), &oidc.Config{ClientID: cfg.ClientID}),
		endSession: extra.EndSession,
		publicURL:  base,
		client:     cfg.HTTPClient,
	}, nil
}

// flow is what the flow cookie holds: state, nonce, PKCE verifier and the
// page to return to, joined by dots (the first three are base64url, the
// last is path-escaped; only it may contain a dot).
type flow struct {
	state, nonce, verifier, next string
}

func (f flow) encode() string {
	return strings.Join([]string{f.state, f.nonce, f.verifier, url.PathEscape(f.next)}, ".")
}

func decodeFlow(s string) (flow, bool) {
	parts := strings.SplitN(s, ".", 4)
	if len(parts) != 4 || len(parts[0]) != 43 || len(parts[1]) != 43 || len(parts[2]) != 43 {
		return flow{}, false
	}
	next, err := url.PathUnescape(parts[3])
	if err != nil {
		return flow{}, false
	}
	return flow{parts[0], parts[1], parts[2], safeReturn(next)}, true
}

// safeReturn keeps a return path on this site's UI.
func safeReturn(p string) string {
	if !strings.HasPrefix(p, "/ui/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return ""
	}
	return p
}

func setFlowCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	// SameSite=Lax: the provider's redirect back is a top-level GET from
	// another site, which Strict would strip the cookie from.
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: value, Path: "/ui/oidc/", MaxAge: maxAge, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode})
}

// oidcStart answers GET /ui/signin/oidc: it sends the browser to the
// provider.
func (h *Handler) oidcStart(w http.ResponseWriter, r *http.Request) {
	o := h.opts.OIDC
	f := flow{state: randomToken(), nonce: randomToken(), verifier: oauth2.GenerateVerifier(), next: safeReturn(r.URL.Query().Get("next"))}
	setFlowCookie(w, r, f.encode(), int(flowTTL.Seconds()))
	target := o.oauth.AuthCodeURL(f.state, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier))
	http.Redirect(w, r, target, http.StatusFound)
}

// oidcCallback answers GET /ui/oidc/callback.
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	o := h.opts.OIDC
	q := r.URL.Query()
	c, err := r.Cookie(flowCookie)
	setFlowCookie(w, r, "", -1) // one attempt per flow, whatever happens
	if err != nil {
		h.signinFailed(w, r, "signin.oidc.expired", "no flow cookie")
		return
	}
	f, ok := decodeFlow(c.Value)
	if !ok {
		h.signinFailed(w, r, "signin.oidc.expired", "malformed flow cookie")
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		h.signinFailed(w, r, "signin.oidc.expired", "state mismatch")
		return
	}
	if e := q.Get("error"); e != "" {
		h.signinFailed(w, r, "signin.oidc.refused", "provider error "+truncate(e, 64))
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		h.signinFailed(w, r, "signin.oidc.refused", "no code")
		return
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), o.client), 15*time.Second)
	defer cancel()
	tok, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		h.signinFailed(w, r, "signin.oidc.refused", "code exchange: "+err.Error())
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		h.signinFailed(w, r, "signin.oidc.refused", "token response without id_token")
		return
	}
	idt, err := o.idVerifier.Verify(ctx, raw)
	if err != nil {
		h.signinFailed(w, r, "signin.oidc.refused", "id token: "+err.Error())
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.nonce)) != 1 {
		h.signinFailed(w, r, "signin.oidc.refused", "nonce mismatch")
		return
	}
	// The session is what the API accepts: the same verifier, the same
	// claim mapping, the same role rules.
	p, err := h.opts.Verifier.Verify(r.Context(), raw)
	if err != nil {
		h.signinFailed(w, r, "signin.oidc.norole", "id token not accepted by the API: "+err.Error())
		return
	}
	maxAge := int(time.Until(idt.Expiry).Seconds())
	if ttl := int(h.opts.SessionTTL.Seconds()); maxAge > ttl {
		maxAge = ttl
	}
	if maxAge < 1 {
		h.signinFailed(w, r, "signin.oidc.refused", "id token already expired")
		return
	}
	setCookie(w, r, sessionCookie, raw, maxAge)
	h.opts.Logger.Info("ui sign-in", zap.String("role", string(p.Role)), zap.String("org", p.Organisation))
	next := f.next
	if next == "" {
		next = h.home(p.Role)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signinFailed shows why the sign-in did not happen; the reason is logged,
// never shown (it may carry provider details).
func (h *Handler) signinFailed(w http.ResponseWriter, r *http.Request, key, reason string) {
	h.opts.Logger.Warn("ui sign-in refused", zap.String("reason", reason))
	h.errorPage(w, r, http.StatusUnauthorized, key)
}

// endSessionURL is where sign-out sends the browser when the provider
// supports RP-initiated logout; empty otherwise.
func (o *OIDCSignIn) endSessionURL(idToken string) string {
	if o == nil || o.endSession == "" {
		return ""
	}
	u, err := url.Parse(o.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", o.oauth.ClientID)
	q.Set("post_logout_redirect_uri", o.publicURL+"/")
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
