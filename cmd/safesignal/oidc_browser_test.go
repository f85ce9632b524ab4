package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/safesignal/safesignal/adapters/web"
)

// chromiumPath finds Chromium (make test installs Debian's chromium).
func chromiumPath() string {
	if p := os.Getenv("SAFESIGNAL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestOIDCSignInInBrowser signs in through the provider in a real
// Chromium, with the provider on another site (127.0.0.1) than Safesignal
// (localhost), as in production: the session must survive the cross-site
// redirect back from the provider and the user lands on their screen, then
// a deep link opened without a session returns there after sign-in. The
// browser runs with CookieSameSiteConsidersRedirectChain, the strictest
// reading of SameSite: with a Strict session cookie the user would land on
// the sign-in page again.
func TestOIDCSignInInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary and a browser")
	}
	bin := chromiumPath()
	if bin == "" {
		t.Skip("chromium not found: run deploy/dev/ensure-chromium.sh (make test does) or set SAFESIGNAL_CHROMIUM")
	}
	idp := startProvider(t)
	addr := freeAddr(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	base := "http://localhost:" + port
	startServeWith(t, buildBinary(t), t.TempDir(), "--http-addr", addr, "--public-url", base,
		"--oidc-issuer", idp.Issuer(), "--oidc-audience", "safesignal", "--oidc-client-secret", idp.ClientSecret)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1000, 800),
		chromedp.Flag("enable-features", "CookieSameSiteConsidersRedirectChain"))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(alloc)
	defer cancelCtx()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/ui/signin")); err != nil {
		t.Fatalf("start browser: %v", err)
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("%s: %v\nat %s\n%.1500s", what, err, loc, html)
		}
	}
	location := func() string {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}

	idp.QueueUser(staffUser{sub: "u-9", role: "reporter", org: "umc-utrecht", specialty: "anaesthesiology", region: "NL-UT"})
	step("sign in at the provider",
		chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/signin/oidc"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/ui/signin/oidc"]`)),
		chromedp.WaitVisible(chromedp.CSS("#description")),
	)
	if loc := location(); loc != base+"/ui/file" {
		t.Errorf("after sign-in the browser is at %s, want the filing form", loc)
	}

	// A deep link opened in another browser (no cookies): sign-in, then
	// back to the link.
	second, cancelSecond := chromedp.NewContext(alloc)
	defer cancelSecond()
	ctx = second
	deep := base + "/ui/signals/0195f3a4-0000-7000-8000-000000000001"
	if err := chromedp.Do(ctx, chromedp.Navigate(deep)); err != nil {
		t.Fatalf("start second browser: %v", err)
	}
	idp.QueueUser(staffUser{sub: "s-1", role: "safety_officer", org: "umc-utrecht", specialty: "anaesthesiology", region: "NL-UT"})
	step("deep link",
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/ui/signin/oidc?next="]`)),
		chromedp.Click(chromedp.CSS(`a[href^="/ui/signin/oidc?next="]`)),
		chromedp.WaitVisible(chromedp.CSS("nav")),
	)
	if loc := location(); loc != deep {
		t.Errorf("after signing in from a deep link the browser is at %s, want %s", loc, deep)
	}

	photographSignIn(t, alloc, base, idp)
}

// photographSignIn opens the sign-in page of a server that signs in
// through OIDC, and the three pages a failed sign-in ends on, in every
// language: each page is in its language, shows the message from that
// language's catalogue and no raw key, and is saved as a screenshot
// ($SAFESIGNAL_SCREENSHOTS or testdata/screenshots).
func photographSignIn(t *testing.T, alloc context.Context, base string, idp *mockoidc.MockOIDC) {
	t.Helper()
	dir := os.Getenv("SAFESIGNAL_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	catalogues := map[string]map[string]string{}
	for _, lang := range web.Languages {
		b, err := os.ReadFile(filepath.Join("..", "..", "adapters", "web", "i18n", lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("catalogue %s: %v", lang, err)
		}
		catalogues[lang] = m
	}
	// A flow cookie as the server sets it (state, nonce, verifier, return
	// path), so that the callback reaches the provider's answer.
	state := strings.Repeat("s", 43)
	flowCookie := state + "." + strings.Repeat("n", 43) + "." + strings.Repeat("v", 43) + "." + "%2Fui%2Ffile"
	pages := []struct {
		name, path, key string
		flow            bool
		before          func()
	}{
		{name: "signin-oidc", path: "/ui/signin", key: "signin.oidc.start"},
		{name: "signin-expired", path: "/ui/oidc/callback?state=" + state + "&code=c", key: "signin.oidc.expired"},
		{name: "signin-refused", path: "/ui/oidc/callback?state=" + state + "&error=access_denied", key: "signin.oidc.refused", flow: true},
		{name: "signin-norole", path: "/ui/signin/oidc", key: "signin.oidc.norole", before: func() {
			idp.QueueUser(staffUser{sub: "u-0", org: "umc-utrecht"})
		}},
	}
	for _, pg := range pages {
		for _, lang := range web.Languages {
			label := pg.name + " (" + lang + ")"
			ctx, cancel := chromedp.NewContext(alloc)
			sctx, cancelStep := context.WithTimeout(ctx, 30*time.Second)
			err := chromedp.Do(sctx, chromedp.Navigate(base+"/healthz"), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "ss_lang", Value: lang, URL: base + "/"}); err != nil {
					return fmt.Errorf("language cookie: %w", err)
				}
				if pg.flow {
					if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "ss_oidc", Value: flowCookie, URL: base + "/ui/oidc/", Path: "/ui/oidc/"}); err != nil {
						return fmt.Errorf("flow cookie: %w", err)
					}
				}
				return nil
			}))
			if err == nil && pg.before != nil {
				pg.before()
			}
			var text, htmlLang string
			var png []byte
			if err == nil {
				err = chromedp.Do(sctx, chromedp.Navigate(base+pg.path), chromedp.WaitVisible(chromedp.CSS("main")))
			}
			if err == nil {
				text, err = chromedp.Run(sctx, chromedp.Evaluate[string](`document.title + "\n" + document.body.innerText`))
			}
			if err == nil {
				htmlLang, err = chromedp.Run(sctx, chromedp.Evaluate[string](`document.documentElement.lang`))
			}
			if err == nil {
				png, err = chromedp.Run(sctx, chromedp.FullScreenshot(100))
			}
			cancelStep()
			cancel()
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			if htmlLang != lang {
				t.Errorf("%s: the page is in %q", label, htmlLang)
			}
			if want := catalogues[lang][pg.key]; want == "" || !strings.Contains(text, want) {
				t.Errorf("%s: the page does not say %q (%s):\n%s", label, want, pg.key, text)
			}
			for k := range catalogues["en"] {
				if strings.Contains(text, k) {
					t.Errorf("%s shows the raw key %q", label, k)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "oidc-"+pg.name+"-"+lang+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
