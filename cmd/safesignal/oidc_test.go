package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// staffUser is an account at the organisation's identity provider, with
// the claims Safesignal reads.
type staffUser struct {
	sub, role, org, specialty, region string
}

func (u staffUser) ID() string { return u.sub }

func (u staffUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]string{"sub": u.sub})
}

func (u staffUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return struct {
		*mockoidc.IDTokenClaims
		Role      string `json:"role,omitempty"`
		Org       string `json:"org,omitempty"`
		Specialty string `json:"specialty,omitempty"`
		Region    string `json:"region,omitempty"`
	}{base, u.role, u.org, u.specialty, u.region}, nil
}

// startProvider starts an OpenID Connect provider that knows Safesignal
// as the client "safesignal" and insists on PKCE (S256). Its settings are
// made before it serves: its handlers read them unguarded.
func startProvider(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	idp, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	idp.ClientID = "safesignal"
	idp.CodeChallengeMethodsSupported = []string{"S256"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := idp.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })
	return idp
}

// browser is a cookie jar that shows each redirect to the test.
type browser struct {
	t    *testing.T
	http *http.Client
}

type hop struct {
	status   int
	location string
	body     string
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, u string, form url.Values) hop {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return hop{resp.StatusCode, resp.Header.Get("Location"), string(data)}
}

func (b *browser) get(u string) hop { return b.do(http.MethodGet, u, nil) }

func (b *browser) cookie(base, name string) string {
	u, _ := url.Parse(base)
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// TestOIDCSignIn drives the web UI's sign-in through a real OpenID Connect
// provider (authorization code flow with PKCE) against the real binary:
// a user with a role lands on their screen and files a signal as the
// provider's subject; tampered state, a replayed callback, a swapped nonce,
// an account without a role and a foreign return address all end without a
// session.
func TestOIDCSignIn(t *testing.T) {
	idp := startProvider(t)

	bin := buildBinary(t)
	addr := freeAddr(t)
	base := "http://" + addr
	srv := startServeWith(t, bin, t.TempDir(), "--http-addr", addr, "--public-url", base,
		"--oidc-issuer", idp.Issuer(), "--oidc-audience", "safesignal", "--oidc-client-secret", idp.ClientSecret)

	reporter := staffUser{sub: "u-4711", role: "reporter", org: "umc-utrecht", specialty: "anaesthesiology", region: "NL-UT"}

	// authorize starts a flow in b and returns the provider's authorize
	// URL, after checking what it asks for.
	authorize := func(b *browser, start string) *url.URL {
		t.Helper()
		h := b.get(base + start)
		if h.status != http.StatusFound {
			t.Fatalf("GET %s: %d %.300s", start, h.status, h.body)
		}
		u, err := url.Parse(h.location)
		if err != nil || !strings.HasPrefix(h.location, idp.AuthorizationEndpoint()) {
			t.Fatalf("start of sign-in goes to %q, want the provider", h.location)
		}
		q := u.Query()
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) != 43 ||
			len(q.Get("nonce")) != 43 || q.Get("redirect_uri") != base+"/ui/oidc/callback" || q.Get("response_type") != "code" {
			t.Fatalf("authorize request %v lacks PKCE, state, nonce or the callback", q)
		}
		return u
	}
	// atProvider is the user signing in at the provider: it answers with a
	// redirect to the callback.
	atProvider := func(b *browser, u *url.URL, who staffUser) *url.URL {
		t.Helper()
		idp.QueueUser(who)
		h := b.get(u.String())
		if h.status != http.StatusFound {
			t.Fatalf("provider: %d %.300s", h.status, h.body)
		}
		cb, err := url.Parse(h.location)
		if err != nil || !strings.HasPrefix(h.location, base+"/ui/oidc/callback?") {
			t.Fatalf("provider sends the browser to %q", h.location)
		}
		return cb
	}

	t.Run("sign in and file", func(t *testing.T) {
		b := newBrowser(t)
		page := b.get(base + "/ui/signin")
		if !strings.Contains(page.body, `href="/ui/signin/oidc"`) {
			t.Fatalf("sign-in page offers no provider sign-in: %.500s", page.body)
		}
		cb := atProvider(b, authorize(b, "/ui/signin/oidc"), reporter)
		h := b.get(cb.String())
		if h.status != http.StatusSeeOther || h.location != "/ui/file" {
			t.Fatalf("callback: %d to %q, want 303 to the filing form; %.300s", h.status, h.location, h.body)
		}
		session := b.cookie(base, "ss_session")
		if session == "" {
			t.Fatal("no session cookie after sign-in")
		}
		if b.cookie(base+"/ui/oidc/callback", "ss_oidc") != "" {
			t.Error("flow cookie left behind after the callback")
		}
		form := b.get(base + "/ui/file")
		if form.status != http.StatusOK {
			t.Fatalf("filing form after sign-in: %d", form.status)
		}
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form.body)
		if m == nil {
			t.Fatal("no CSRF token on the filing form")
		}
		res := b.do(http.MethodPost, base+"/ui/file", url.Values{"csrf": {m[1]}, "kind": {"near_miss"}, "category": {"medication"},
			"harm": {"none"}, "date": {time.Now().Format(time.DateOnly)}, "specialty": {"anaesthesiology"}, "region": {"NL-UT"}, "action": {"file"}, "key": {"oidc-1"},
			"description": {"Two vials of the same colour stood side by side on the anaesthesia cart."}, "immediateActions": {"Moved one."}})
		if res.status != http.StatusCreated {
			t.Fatalf("filing through the UI after OIDC sign-in: %d %.500s", res.status, res.body)
		}
		// The API takes the same session as a bearer token: the subject is
		// the provider's.
		req, _ := http.NewRequest(http.MethodGet, srv.url+"/api/v1/me/signals", nil)
		req.Header.Set("Authorization", "Bearer "+session)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"kind":"near_miss","category":"medication"`) {
			t.Fatalf("my signals with the session token: %d %.300s", resp.StatusCode, body)
		}
		// A second use of the same callback (code and state) signs no one in.
		other := newBrowser(t)
		if h := other.get(cb.String()); h.status != http.StatusUnauthorized || other.cookie(base, "ss_session") != "" {
			t.Errorf("replayed callback in another browser: %d, session %v", h.status, other.cookie(base, "ss_session") != "")
		}
		if h := b.get(cb.String()); h.status != http.StatusUnauthorized {
			t.Errorf("replayed callback in the same browser: %d, want 401", h.status)
		}
	})

	refused := []struct {
		name   string
		who    staffUser
		tamper func(authorize, callback *url.URL)
		want   string
	}{
		{name: "state changed", who: reporter, tamper: func(_, cb *url.URL) {
			q := cb.Query()
			q.Set("state", strings.Repeat("A", 43))
			cb.RawQuery = q.Encode()
		}, want: "too long"},
		{name: "nonce swapped at the provider", who: reporter, tamper: func(a, _ *url.URL) {
			q := a.Query()
			q.Set("nonce", strings.Repeat("B", 43))
			a.RawQuery = q.Encode()
		}, want: "did not sign you in"},
		{name: "PKCE challenge swapped at the provider", who: reporter, tamper: func(a, _ *url.URL) {
			q := a.Query()
			q.Set("code_challenge", strings.Repeat("C", 43))
			a.RawQuery = q.Encode()
		}, want: "did not sign you in"},
		{name: "provider error", who: reporter, tamper: func(_, cb *url.URL) {
			q := cb.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			cb.RawQuery = q.Encode()
		}, want: "did not sign you in"},
		{name: "account without a role", who: staffUser{sub: "u-1", org: "umc-utrecht"}, want: "no Safesignal role"},
		{name: "role the API does not know", who: staffUser{sub: "u-2", role: "root", org: "umc-utrecht"}, want: "no Safesignal role"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t)
			a := authorize(b, "/ui/signin/oidc")
			if tc.tamper != nil {
				tc.tamper(a, &url.URL{})
			}
			cb := atProvider(b, a, tc.who)
			if tc.tamper != nil {
				tc.tamper(&url.URL{}, cb)
			}
			h := b.get(cb.String())
			if h.status != http.StatusUnauthorized || !strings.Contains(h.body, tc.want) {
				t.Errorf("callback: %d, want 401 saying %q; %.400s", h.status, tc.want, h.body)
			}
			if b.cookie(base, "ss_session") != "" {
				t.Error("a session cookie was set")
			}
			if h := b.get(base + "/ui/mine"); h.status != http.StatusSeeOther {
				t.Errorf("my signals after a refused sign-in: %d, want 303 to sign-in", h.status)
			}
		})
	}

	t.Run("return address", func(t *testing.T) {
		b := newBrowser(t)
		h := b.get(base + "/ui/signals/" + "0195f3a4-0000-7000-8000-000000000001")
		if h.status != http.StatusSeeOther || !strings.HasPrefix(h.location, "/ui/signin?next=") {
			t.Fatalf("deep link without session: %d to %q", h.status, h.location)
		}
		for _, tc := range []struct{ next, want string }{
			{"/ui/mine", "/ui/mine"},
			{"//evil.example/ui/", "/ui/file"},
			{"https://evil.example/", "/ui/file"},
			{"/ui/\\evil", "/ui/file"},
		} {
			cb := atProvider(b, authorize(b, "/ui/signin/oidc?next="+url.QueryEscape(tc.next)), reporter)
			if h := b.get(cb.String()); h.status != http.StatusSeeOther || h.location != tc.want {
				t.Errorf("next=%q: %d to %q, want %q", tc.next, h.status, h.location, tc.want)
			}
		}
	})

	t.Run("flow started without the cookie", func(t *testing.T) {
		b := newBrowser(t)
		cb := atProvider(b, authorize(b, "/ui/signin/oidc"), reporter)
		fresh := newBrowser(t) // e.g. a link opened in another browser
		if h := fresh.get(cb.String()); h.status != http.StatusUnauthorized {
			t.Errorf("callback without the flow cookie: %d, want 401", h.status)
		}
	})
}
