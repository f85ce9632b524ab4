package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
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
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })
	idp.ClientID = "safesignal"
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
}
