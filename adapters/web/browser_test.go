package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/web"
)

// chromium finds a Chromium or Chrome binary; deploy/dev/ensure-chromium.sh
// installs Debian's chromium, which make test runs first.
func chromium() string {
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

// screenshotDir is where the screenshots go: $SAFESIGNAL_SCREENSHOTS, or
// testdata/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("SAFESIGNAL_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserFlow drives a real headless Chromium through the whole flow:
// a reporter files signals through the form (in all six languages), the
// safety officer finds one on the triage board, acknowledges and escalates
// it, a colleague in another organisation acknowledges the escalation, and
// policy staff open the trend dashboard. Every screen is saved as a PNG.
func TestBrowserFlow(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("chromium not found: run deploy/dev/ensure-chromium.sh (make test does) or set SAFESIGNAL_CHROMIUM")
	}
	h := newHarness(t)
	dir := screenshotDir(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en"),
		chromedp.WindowSize(1100, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	// No timeout on the browser's context (it would stop the browser);
	// go test's -timeout bounds the test.
	ctx, cancelCtx := chromedp.NewContext(alloc)
	defer cancelCtx()

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		// Each step is bounded (a context derived after the browser started).
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.OuterHTML(css("main")))
			t.Fatalf("%s: %v\n%.2000s", what, err, body)
		}
	}
	shot := func(name string) {
		t.Helper()
		// A capture now and then never answers on a loaded machine; it is
		// retried.
		var png []byte
		var err error
		for range 3 {
			sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			png, err = chromedp.Run(sctx, chromedp.FullScreenshot(100)) // 100: PNG; less is JPEG
			cancel()
			if err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	signIn := func(p auth.Principal) {
		t.Helper()
		steps := []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(h.url + "/ui/signin"),
			chromedp.WaitVisible(css("#name")),
			chromedp.SetValue(css("#name"), p.Subject),
			chromedp.SetValue(css("#role"), string(p.Role)),
		}
		// Fields the person has no value for keep the form's defaults
		// (the token then carries them; harmless for these roles).
		for sel, v := range map[string]string{"#org": p.Organisation, "#specialty": p.Specialty, "#region": p.Region} {
			if v != "" {
				steps = append(steps, chromedp.SetValue(css(sel), v))
			}
		}
		steps = append(steps, chromedp.Click(css(`form[action="/ui/signin"] button[type=submit]`)), chromedp.WaitNotPresent(css("#name")), chromedp.WaitVisible(css("nav")))
		run("sign in as "+string(p.Role), steps...)
	}
	setLang := func(lang string) {
		t.Helper()
		run("language "+lang,
			chromedp.SetValue(css("#lang-select"), lang),
			chromedp.Click(css(`form.lang button`)),
			chromedp.WaitVisible(css(`html[lang="`+lang+`"]`)),
		)
	}

	// Sign-in page and front page (the first run starts the browser and
	// takes no timeout).
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+"/")); err != nil {
		t.Fatal(err)
	}
	run("front", chromedp.Navigate(h.url+"/"), chromedp.WaitVisible(css("main")))
	shot("01-front")
	run("sign-in page", chromedp.Navigate(h.url+"/ui/signin"), chromedp.WaitVisible(css("#name")))
	shot("02-signin")

	// Reporter: the filing form in every language; one signal filed in each.
	reporter := people[auth.RoleReporter]
	signIn(reporter)
	categories := []string{"medication", "medication", "medication", "blood", "blood", "medication"}
	for i, lang := range web.Languages {
		run("filing form", chromedp.Navigate(h.url+"/ui/file"), chromedp.WaitVisible(css("#description")))
		setLang(lang)
		shot("03-file-form-" + lang)
		run("fill form "+lang,
			chromedp.Click(css("#kind-near_miss")),
			chromedp.SetValue(css("#category"), categories[i]),
			chromedp.SendKeys(css("#description"), "Tenfold morphine dose prepared; caught at the bedside double check ("+lang+")."),
			chromedp.SendKeys(css("#immediateActions"), "Dose discarded, pharmacy informed."),
		)
		if i == 0 {
			// A personal number is warned about before filing.
			run("check text",
				chromedp.SendKeys(css("#description"), " Patient BSN 111222333."),
				chromedp.Click(css(`button[value=check]`)),
				chromedp.WaitVisible(css(".warn")),
			)
			shot("04-file-warning")
			if w := text(".warn"); !strings.Contains(w, "BSN") {
				t.Errorf("warning does not name the BSN: %q", w)
			}
		}
		run("file "+lang, chromedp.Click(css(`button[value=file]`)), chromedp.WaitVisible(css("dl.facts code")))
		if i == 0 {
			shot("05-filed")
		}
	}
	setLang("en")
	run("my signals", chromedp.Navigate(h.url+"/ui/mine"), chromedp.WaitVisible(css("article.card")))
	shot("06-my-signals")

	// A 360 px wide screen.
	run("narrow", chromedp.EmulateViewport(360, 740), chromedp.Navigate(h.url+"/ui/file"), chromedp.WaitVisible(css("#description")))
	shot("07-file-form-360px")
	run("wide", chromedp.EmulateViewport(1100, 900))

	// Safety officer: triage board, acknowledge, escalate.
	signIn(people[auth.RoleSafetyOfficer])
	run("triage", chromedp.Navigate(h.url+"/ui/triage"), chromedp.WaitVisible(css("table")))
	shot("08-triage")
	run("open signal", chromedp.Click(css(`tbody tr:first-child a`)), chromedp.WaitVisible(css(`form[action$="/acknowledge"]`)))
	shot("09-signal-reported")
	run("acknowledge", chromedp.Click(css(`form[action$="/acknowledge"] button`)), chromedp.WaitVisible(css(".notice")))
	if s := text(".facts .badge"); s != "Being handled" {
		t.Errorf("status after acknowledge: %q", s)
	}
	run("escalate",
		chromedp.WaitVisible(css("#e-orgs")),
		chromedp.SendKeys(css("#e-orgs"), "ous"),
		chromedp.SendKeys(css("#e-message"), "Look-alike morphine ampoules (10 and 1 mg/ml) stored side by side."),
		chromedp.SendKeys(css("#e-summary"), "Tenfold dose prepared from the wrong strength; caught at the double check."),
	)
	shot("10-escalation-composer")
	run("send escalation", chromedp.Click(css(`form[action$="/escalate"] button[type=submit]`)), chromedp.WaitVisible(css(".notice")))
	shot("11-signal-escalated")
	if hist := text(".timeline"); !strings.Contains(hist, "Escalated") || !strings.Contains(hist, "Acknowledged") {
		t.Errorf("history timeline: %q", hist)
	}

	// Colleague in another organisation: acknowledge and respond.
	signIn(people[auth.RoleColleague])
	run("inbox", chromedp.Navigate(h.url+"/ui/escalations"), chromedp.WaitVisible(css("article.card")))
	shot("12-inbox")
	run("acknowledge escalation", chromedp.Click(css(`form[action$="/acknowledge-escalation"] button`)), chromedp.WaitVisible(css(".notice")))
	if s := text("article.card"); !strings.Contains(s, "You acknowledged this escalation.") {
		t.Errorf("inbox after acknowledging: %q", s)
	}
	run("respond",
		chromedp.Click(css(`article.card details summary`)),
		chromedp.Click(css(`input[value=risk_present]`)),
		chromedp.SendKeys(css(`textarea[name=text]`), "Same ampoules on our ward; separated them today."),
		chromedp.Click(css(`form[action$="/respond-escalation"] button[type=submit]`)),
		chromedp.WaitVisible(css(".notice")),
	)
	shot("13-inbox-answered")

	// Policy staff: trends, with suppressed cells.
	signIn(people[auth.RolePolicyAnalyst])
	// Policy staff land on the trend dashboard after signing in.
	run("trends", chromedp.WaitVisible(css("svg.chart")))
	shot("14-trends")
	csv, err := chromedp.Run(ctx, chromedp.AttributeValue(css(`a[download]`), "href"))
	if err != nil || !strings.HasPrefix(csv.Value, "/ui/trends.csv") {
		t.Errorf("CSV link %q: %v", csv.Value, err)
	}
	bars, err := chromedp.Run(ctx, chromedp.TextContent(css("svg.chart")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(bars, "4") {
		t.Errorf("bar chart lacks the medication count 4: %q", bars)
	}
	t.Logf("screenshots in %s", dir)
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }
