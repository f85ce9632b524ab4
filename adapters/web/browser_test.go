package web_test

import (
	"context"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
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

// screenshotDir is where the screenshots go: $SAFESIGNAL_SCREENSHOTS (so
// that CI can keep them as an artefact), or testdata/screenshots (ignored
// by git).
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

const (
	desktopWidth, desktopHeight = 1100, 900
	narrowWidth, narrowHeight   = 360, 740
)

// auditJS looks at the page as a user and assistive technology meet it:
// form controls without a label, text whose contrast with its background
// (computed from the computed colours, alpha blended over the ancestors'
// backgrounds) is below 4.5:1, and the text shown or read out, for the
// raw-key check.
const auditJS = `(() => {
  const parse = s => { const m = /rgba?\(([^)]+)\)/.exec(s || ''); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(x => x).map(parseFloat); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const over = (t, b) => ({r: t.r*t.a + b.r*(1-t.a), g: t.g*t.a + b.g*(1-t.a), b: t.b*t.a + b.b*(1-t.a), a: 1});
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); };
    return 0.2126*f(c.r) + 0.7152*f(c.g) + 0.0722*f(c.b); };
  const background = el => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; } }
    let bg = {r: 255, g: 255, b: 255, a: 1}; for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg); return bg; };
  const out = {unlabelled: [], lowContrast: [], texts: 0};
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labelled = (el.labels && [...el.labels].some(l => l.textContent.trim())) || (el.getAttribute('aria-label') || '').trim() || el.getAttribute('aria-labelledby');
    if (!labelled) out.unlabelled.push(el.outerHTML.slice(0, 160));
  }
  for (const el of document.body.querySelectorAll('*')) {
    const tag = el.tagName.toUpperCase();
    if (['SCRIPT', 'STYLE', 'OPTION', 'TITLE', 'DESC'].includes(tag)) continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(el);
    if (st.visibility !== 'visible' || st.display === 'none') continue;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2 || r.right <= 0 || r.bottom <= 0) continue;
    const fg = parse(el instanceof SVGElement ? st.fill : st.color);
    if (!fg) continue;
    const bg = background(el), f = over(fg, bg);
    const l1 = lum(f), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    out.texts++;
    if (ratio < 4.5) out.lowContrast.push(tag + '.' + (el.getAttribute('class') || '') + ' "' + el.textContent.trim().slice(0, 40) + '" ' +
      ratio.toFixed(2) + ':1 (' + st.color + ' on rgb(' + [bg.r, bg.g, bg.b].map(Math.round).join(', ') + '))');
  }
  const attrs = [...document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')]
    .map(e => ['aria-label', 'title', 'placeholder', 'alt'].map(a => e.getAttribute(a) || '').join(' '));
  out.text = [document.title, document.body.innerText, ...attrs, ...[...document.querySelectorAll('option')].map(o => o.textContent)].join('\n');
  out.lang = document.documentElement.lang;
  return out;
})()`

type pageAudit struct {
	Unlabelled  []string `json:"unlabelled"`
	LowContrast []string `json:"lowContrast"`
	Texts       int      `json:"texts"`
	Text        string   `json:"text"`
	Lang        string   `json:"lang"`
}

// overflowJS reports the page's width and what sticks out of a narrow
// viewport (outside any box that scrolls by itself).
const overflowJS = `(() => {
  const w = document.documentElement.clientWidth, out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right <= w + 0.5 || r.width === 0) continue;
    let scrolls = false;
    for (let p = el.parentElement; p; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') { scrolls = true; break; } }
    if (!scrolls) out.push(el.tagName + '.' + (el.getAttribute('class') || '') + '#' + el.id + ' right=' + Math.round(r.right));
  }
  return {scrollWidth: document.documentElement.scrollWidth, overflowing: out.slice(0, 8)};
})()`

type overflow struct {
	ScrollWidth int      `json:"scrollWidth"`
	Overflowing []string `json:"overflowing"`
}

// focusJS describes the focused element and whether its focus is drawn.
// A date or time control's calendar button is a focus stop inside the
// control: the control is the active element but does not match :focus,
// and the button's own ring (styled in style.css) is out of reach; such a
// stop is reported as inner.
const focusJS = `(() => { const e = document.activeElement; if (!e || e === document.body) return {none: true};
  if (e.matches('input[type=date], input[type=time]') && !e.matches(':focus')) return {none: false, inner: true, what: e.outerHTML.slice(0, 100)};
  const st = getComputedStyle(e);
  return {none: false, what: e.outerHTML.slice(0, 100), visible: e.matches(':focus-visible'),
    drawn: (st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) > 0) || (st.boxShadow && st.boxShadow !== 'none')}; })()`

type focusState struct {
	None    bool   `json:"none"`
	Inner   bool   `json:"inner"`
	What    string `json:"what"`
	Visible bool   `json:"visible"`
	Drawn   bool   `json:"drawn"`
}

// browserTest is one headless Chromium driven through the service.
type browserTest struct {
	t       *testing.T
	ctx     context.Context
	h       *harness
	dir     string
	shots   []string
	order   []string       // screen names in the order first seen
	screens map[string]int // screen name → languages seen
	focused map[string]bool
}

// run does actions, each step bounded by a deadline.
func (b *browserTest) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		body, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(css("main")))
		b.t.Fatalf("%s: %v\n%.2000s", what, err, body)
	}
}

func eval[T any](b *browserTest, js string) T {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate: %v", err)
	}
	return v
}

func (b *browserTest) text(sel string) string {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(css(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// shot saves the page as a PNG.
func (b *browserTest) shot(name string) {
	b.t.Helper()
	// A capture now and then never answers on a loaded machine; it is
	// retried.
	var png []byte
	var err error
	for range 3 {
		sctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
		png, err = chromedp.Run(sctx, chromedp.FullScreenshot(100)) // 100: PNG; less is JPEG
		cancel()
		if err == nil {
			break
		}
	}
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	file := name + ".png"
	if err := os.WriteFile(filepath.Join(b.dir, file), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.shots = append(b.shots, file)
}

// check audits the page on screen as screen name in lang and saves its
// screenshot: the page is in lang, shows no raw catalogue key, labels
// every control, has AA contrast, and needs no horizontal scrolling at
// 360 px. The first time a screen is checked, its focus order is walked
// with the Tab key too.
func (b *browserTest) check(name, lang string) {
	b.t.Helper()
	label := name + " (" + lang + ")"
	a := eval[pageAudit](b, auditJS)
	if a.Lang != lang {
		b.t.Errorf("%s: page is in %q", label, a.Lang)
	}
	for _, k := range rawKeys(a.Text) {
		b.t.Errorf("%s shows the raw key %q", label, k)
	}
	for _, u := range a.Unlabelled {
		b.t.Errorf("%s: control without a label: %s", label, u)
	}
	for _, c := range a.LowContrast {
		b.t.Errorf("%s: contrast below 4.5:1: %s", label, c)
	}
	if a.Texts == 0 {
		b.t.Errorf("%s: no text found to check", label)
	}
	n := slices.Index(b.order, name)
	if n < 0 {
		b.order, n = append(b.order, name), len(b.order)
	}
	b.screens[name]++
	b.shot(fmt.Sprintf("%02d-%s-%s", n+1, name, lang))
	b.run("narrow "+label, chromedp.EmulateViewport(narrowWidth, narrowHeight))
	o := eval[overflow](b, overflowJS)
	if o.ScrollWidth > narrowWidth {
		b.t.Errorf("%s scrolls sideways at %d px: %d px wide; sticking out: %v", label, narrowWidth, o.ScrollWidth, o.Overflowing)
	}
	if lang == "en" {
		b.shot(fmt.Sprintf("%02d-%s-%s-360px", n+1, name, lang))
	}
	b.run("wide "+label, chromedp.EmulateViewport(desktopWidth, desktopHeight))
	if !b.focused[name] {
		b.focused[name] = true
		b.focusWalk(label)
	}
}

// focusWalk presses Tab through the page (up to 40 stops) and fails on a
// focused element whose focus is not drawn.
func (b *browserTest) focusWalk(label string) {
	b.t.Helper()
	first := ""
	for i := range 40 {
		b.run("tab", chromedp.KeyEvent(kb.Tab))
		f := eval[focusState](b, focusJS)
		if f.None || f.What == first {
			break
		}
		if i == 0 {
			first = f.What
		}
		if !f.Drawn && !f.Inner {
			b.t.Errorf("%s: focus not visible on %s (focus-visible %v, outline or shadow %v)", label, f.What, f.Visible, f.Drawn)
		}
	}
}

// setLang switches the interface's language with the switcher in the
// header; it comes back to the same page.
func (b *browserTest) setLang(lang string) {
	b.t.Helper()
	if eval[string](b, `document.documentElement.lang`) == lang {
		return
	}
	b.run("language "+lang,
		chromedp.SetValue(css("#lang-select"), lang),
		submit(`form.lang button`),
		chromedp.WaitVisible(css(`html[lang="`+lang+`"]`)),
	)
}

// submit clicks what sel matches (a form's button) and waits until the
// page it leads to has loaded: the old document is marked, and the wait
// ends when a document without the mark is complete.
func submit(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.Evaluate[bool](`window.__old = true`)(ctx, t); err != nil {
			return err
		}
		if _, err := chromedp.Click(css(sel))(ctx, t); err != nil {
			return err
		}
		return until(ctx, t, `!window.__old && document.readyState === 'complete'`)
	})
}

// until evaluates js until it is true; an evaluation cut off by the
// navigation it waits for is tried again.
func until(ctx context.Context, t *chromedp.Target, js string) error {
	for {
		if ok, err := chromedp.Evaluate[bool](js)(ctx, t); err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// everyLanguage opens path, waits for ready, and checks it in each
// language.
func (b *browserTest) everyLanguage(name, path, ready string) {
	b.t.Helper()
	b.run("open "+name, chromedp.Navigate(b.h.url+path), chromedp.WaitVisible(css(ready)))
	for _, lang := range web.Languages {
		b.setLang(lang)
		b.run(name+" "+lang, chromedp.WaitVisible(css(ready)))
		b.check(name, lang)
	}
	b.setLang("en")
}

func (b *browserTest) signIn(p auth.Principal) {
	b.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(b.h.url + "/ui/signin"),
		chromedp.WaitVisible(css("#name")),
		chromedp.SetValue(css("#name"), p.Subject),
		chromedp.SetValue(css("#role"), string(p.Role)),
	}
	// Fields the person has no value for keep the form's defaults (the
	// token then carries them; harmless for these roles).
	for sel, v := range map[string]string{"#org": p.Organisation, "#specialty": p.Specialty, "#region": p.Region} {
		if v != "" {
			steps = append(steps, chromedp.SetValue(css(sel), v))
		}
	}
	steps = append(steps, submit(`form[action="/ui/signin"] button[type=submit]`), chromedp.WaitNotPresent(css("#name")), chromedp.WaitVisible(css("nav")))
	b.run("sign in as "+string(p.Role), steps...)
}

func (b *browserTest) signOut() {
	b.t.Helper()
	b.run("sign out", submit(`form.signout button`), chromedp.WaitNotPresent(css("form.signout")))
}

// tabTo presses Tab until the element sel matches has the focus.
func (b *browserTest) tabTo(sel string) {
	b.t.Helper()
	js := `document.activeElement && document.activeElement.matches(` + jsString(sel) + `)`
	for range 80 {
		if eval[bool](b, js) {
			return
		}
		b.run("tab to "+sel, chromedp.KeyEvent(kb.Tab))
	}
	b.t.Fatalf("Tab never reached %s", sel)
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

var (
	signalIDRe = regexp.MustCompile(`^[0-9a-f-]{36}$`)
	codeRe     = regexp.MustCompile(`^[A-Z2-7]{4}(-[A-Z2-7]{1,4})+$`)
)

// TestBrowserFlow drives a real headless Chromium through every screen of
// every role, and checks and photographs each in all six languages:
//
//   - anonymous visitors: the front page, sign-in, the receipt form and the
//     error page;
//   - a reporter files (once with the keyboard alone), by name and
//     anonymously (the receipt code is shown once), and asks for peer
//     support;
//   - the safety officer works a signal from the triage board: acknowledges,
//     escalates with the composer, asks both reporters a question, and
//     publishes a lesson from it;
//   - a colleague in another organisation answers the escalation and marks
//     the lesson applied; the reporter answers under "my signals"; the
//     anonymous reporter answers with the receipt code; the peer supporter
//     takes up the request; policy staff open the trend dashboard.
//
// Every check of (*browserTest).check runs on every screen in every
// language; the PNGs and an index.html go to screenshotDir.
func TestBrowserFlow(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("chromium not found: run deploy/dev/ensure-chromium.sh (make test does) or set SAFESIGNAL_CHROMIUM")
	}
	start := time.Now()
	h := newHarness(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en"),
		chromedp.WindowSize(desktopWidth, desktopHeight),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	// No timeout on the browser's context (it would stop the browser);
	// go test's -timeout bounds the test, and each step has a deadline.
	ctx, cancelCtx := chromedp.NewContext(alloc)
	defer cancelCtx()
	b := &browserTest{t: t, ctx: ctx, h: h, dir: screenshotDir(t), screens: map[string]int{}, focused: map[string]bool{}}
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+"/"), chromedp.EmulateViewport(desktopWidth, desktopHeight)); err != nil {
		t.Fatal(err)
	}

	// Anonymous visitors.
	b.everyLanguage("front", "/", "main .button")
	b.everyLanguage("signin", "/ui/signin", "#name")
	b.everyLanguage("receipt-form", "/ui/receipt", "#receipt")
	b.everyLanguage("error", "/ui/does-not-exist", ".errors")

	// Reporter: the form in every language.
	reporter := people[auth.RoleReporter]
	b.signIn(reporter)
	b.everyLanguage("file", "/ui/file", "#description")

	// Filing with the keyboard alone, from the top of the page: Tab to
	// each field, Space and arrow keys to choose, type, Enter to send.
	b.run("file form", chromedp.Navigate(h.url+"/ui/file"), chromedp.WaitVisible(css("#description")))
	// A new form asks for three things only (kind, category, what
	// happened); the rest is optional or filled in already, on one page.
	empty := `[...new Set([...document.querySelectorAll('form [required]').values()]
	  .filter(e => e.type === 'radio' ? !document.querySelector('input[name="' + e.name + '"]:checked') : !e.value)
	  .map(e => e.name))]`
	if got := eval[[]string](b, empty); !slices.Equal(got, []string{"kind", "category", "description"}) {
		t.Errorf("a new filing form asks for %q, want kind, category and description only", got)
	}
	b.tabTo(`input[name=kind]`)
	b.run("choose kind", chromedp.KeyEvent(" "), chromedp.KeyEvent(kb.ArrowDown))
	b.tabTo(`#category`)
	b.run("choose category", chromedp.KeyEvent(kb.ArrowDown))
	b.tabTo(`#description`)
	b.run("describe", chromedp.KeyEvent("Infusion pump rate typed as 100 instead of 10 ml/h; caught at the bedside check."))
	if got := eval[string](b, `document.querySelector('input[name=kind]:checked').value + ' ' + document.querySelector('#category').value`); got != "near_miss clinical_administration" {
		t.Errorf("keyboard choices: %q", got)
	}
	b.tabTo(`button[value=file]`)
	b.run("send with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("dl.facts code")))
	if s := b.text(".notice"); !strings.Contains(s, "Thank you") {
		t.Errorf("after filing with the keyboard: %q", s)
	}

	// One named filing in each language (the result page in each), the
	// first with a personal number warned about before filing.
	categories := []string{"medication", "medication", "medication", "blood", "blood", "medication"}
	var namedID string
	for i, lang := range web.Languages {
		b.run("filing form", chromedp.Navigate(h.url+"/ui/file"), chromedp.WaitVisible(css("#description")))
		b.setLang(lang)
		b.run("fill form "+lang,
			chromedp.Click(css("#kind-near_miss")),
			chromedp.SetValue(css("#category"), categories[i]),
			chromedp.SendKeys(css("#description"), "Tenfold morphine dose prepared; caught at the bedside double check ("+lang+")."),
			chromedp.SendKeys(css("#immediateActions"), "Dose discarded, pharmacy informed."),
		)
		if i == 0 {
			b.run("check text",
				chromedp.SendKeys(css("#description"), " Patient BSN 111222333."),
				submit(`button[value=check]`),
				chromedp.WaitVisible(css(".warn")),
			)
			if w := b.text(".warn"); !strings.Contains(w, "BSN") {
				t.Errorf("warning does not name the BSN: %q", w)
			}
		}
		b.run("file "+lang, submit(`button[value=file]`), chromedp.WaitVisible(css("dl.facts code")))
		b.check("filed", lang)
		if i == 0 {
			namedID = b.text("dl.facts code")
		}
	}
	// Anonymously, in each language: the receipt code, once.
	var anonID, receipt string
	for _, lang := range web.Languages {
		b.run("anonymous filing form", chromedp.Navigate(h.url+"/ui/file"), chromedp.WaitVisible(css("#description")))
		b.setLang(lang)
		b.run("fill anonymous "+lang,
			chromedp.Click(css("#kind-unsafe_situation")),
			chromedp.SetValue(css("#category"), "infrastructure"),
			chromedp.SendKeys(css("#description"), "Emergency exit blocked by stored beds ("+lang+")."),
			chromedp.Click(css("#peerSupport")),
			chromedp.Click(css("#anonymous")),
			submit(`button[value=file]`),
			chromedp.WaitVisible(css("#receipt-code")),
		)
		b.check("filed-anonymous", lang)
		if lang == "en" {
			anonID, receipt = b.text("dl.facts code"), b.text("#receipt-code")
		}
	}
	b.setLang("en")
	if !signalIDRe.MatchString(namedID) || !signalIDRe.MatchString(anonID) || !codeRe.MatchString(receipt) {
		t.Fatalf("ids %q %q, receipt %q", namedID, anonID, receipt)
	}
	// Peer support: the form, and the confirmation in each language.
	b.everyLanguage("peer-support", "/ui/peer-support", "#contact")
	for _, lang := range web.Languages {
		b.run("peer form", chromedp.Navigate(h.url+"/ui/peer-support"), chromedp.WaitVisible(css("#contact")))
		b.setLang(lang)
		b.run("ask for peer support "+lang,
			chromedp.SendKeys(css("#contact"), "+31 6 1234 5678"),
			chromedp.SendKeys(css("#message"), "A hard night shift ("+lang+")."),
			submit(`form[action="/ui/peer-support"] button[type=submit]`),
			chromedp.WaitVisible(css(".notice")),
		)
		b.check("peer-support-sent", lang)
	}
	b.setLang("en")
	b.signOut()

	// Safety officer: triage board, the named signal acknowledged,
	// escalated with the composer and a question asked; a question to the
	// anonymous reporter; a lesson published from the signal.
	b.signIn(people[auth.RoleSafetyOfficer])
	b.everyLanguage("triage", "/ui/triage", "table")
	b.run("open signal", submit(`a[href="/ui/signals/`+namedID+`"]`), chromedp.WaitVisible(css(`form[action$="/acknowledge"]`)))
	b.run("acknowledge", submit(`form[action$="/acknowledge"] button`), chromedp.WaitVisible(css(".notice")))
	if s := b.text(".facts .badge"); s != "Being handled" {
		t.Errorf("status after acknowledge: %q", s)
	}
	b.run("escalate",
		chromedp.WaitVisible(css("#e-orgs")),
		chromedp.SendKeys(css("#e-orgs"), "ous"),
		chromedp.SendKeys(css("#e-message"), "Look-alike morphine ampoules (10 and 1 mg/ml) stored side by side."),
		chromedp.SendKeys(css("#e-summary"), "Tenfold dose prepared from the wrong strength; caught at the double check."),
		submit(`form[action$="/escalate"] button[type=submit]`),
		chromedp.WaitVisible(css(".notice")),
	)
	ask := func(id, question string) {
		b.run("ask "+id,
			chromedp.Navigate(h.url+"/ui/signals/"+id),
			chromedp.Click(css(`details:has(form[action$="/ask"]) summary`)),
			chromedp.SendKeys(css("#ask-question"), question),
			submit(`form[action$="/ask"] button[type=submit]`),
			chromedp.WaitVisible(css(".notice")),
		)
	}
	ask(namedID, "Which ward was it, and was the second nurse present?")
	ask(anonID, "Which exit was blocked?")
	b.everyLanguage("signal", "/ui/signals/"+namedID, "#e-orgs")
	if hist := b.text(".timeline"); !strings.Contains(hist, "Escalated") || !strings.Contains(hist, "Question to the reporter") {
		t.Errorf("history timeline: %q", hist)
	}
	b.everyLanguage("lesson-publish", "/ui/lessons/new?signal="+namedID, "#title")
	b.run("publish lesson",
		chromedp.SendKeys(css("#title"), "Keep morphine strengths apart"),
		chromedp.SendKeys(css("#whatHappened"), "A tenfold dose was prepared from an ampoule that looked like the usual one."),
		chromedp.SendKeys(css("#whatWasLearned"), "Look-alike ampoules of two strengths were stored side by side."),
		chromedp.SendKeys(css("#whatWasChanged"), "The strengths are now in separate, labelled drawers."),
		submit(`form[action="/ui/lessons"] button[type=submit]`),
		chromedp.WaitVisible(css(".notice")),
	)
	lessonURL := eval[string](b, `location.pathname`)
	b.everyLanguage("lesson", lessonURL, "#lesson-h")
	b.everyLanguage("lessons", "/ui/lessons?q=morph", "article.card")
	b.signOut()

	// Colleague in another organisation: the escalation, and the lesson
	// applied.
	b.signIn(people[auth.RoleColleague])
	b.run("acknowledge escalation", chromedp.Navigate(h.url+"/ui/escalations"),
		submit(`form[action$="/acknowledge-escalation"] button`), chromedp.WaitVisible(css(".notice")))
	if s := b.text("article.card"); !strings.Contains(s, "You acknowledged this escalation.") {
		t.Errorf("inbox after acknowledging: %q", s)
	}
	b.everyLanguage("escalations", "/ui/escalations", "article.card")
	b.run("respond",
		chromedp.Click(css(`article.card details summary`)),
		chromedp.Click(css(`input[value=risk_present]`)),
		chromedp.SendKeys(css(`textarea[name=text]`), "Same ampoules on our ward; separated them today."),
		submit(`form[action$="/respond-escalation"] button[type=submit]`),
		chromedp.WaitVisible(css(".notice")),
	)
	b.run("apply lesson", chromedp.Navigate(h.url+lessonURL), submit(`form[action$="/applied"] button`), chromedp.WaitVisible(css(".notice")))
	if s := b.text("dl.facts"); !strings.Contains(s, "Applied by 1 organisations") {
		t.Errorf("lesson after applying: %q", s)
	}
	b.signOut()

	// The reporter reads the question and answers it.
	b.signIn(reporter)
	b.everyLanguage("mine", "/ui/mine", "form[action$=\"/reply\"]")
	b.run("answer",
		chromedp.SendKeys(css(`form[action$="/reply"] textarea`), "Recovery ward 3; the second nurse was called away."),
		submit(`form[action$="/reply"] button[type=submit]`),
		chromedp.WaitVisible(css(".notice")),
	)
	if s := b.text("main"); !strings.Contains(s, "Recovery ward 3") {
		t.Errorf("my signals after answering: %q", s)
	}
	b.signOut()

	// The anonymous reporter, signed out, follows the signal with the
	// receipt code (a POST form: never in the URL) and answers.
	for _, lang := range web.Languages {
		b.run("receipt form", chromedp.Navigate(h.url+"/ui/receipt"), chromedp.WaitVisible(css("#receipt")))
		b.setLang(lang)
		b.run("receipt "+lang, chromedp.SendKeys(css("#receipt"), receipt), submit(`form[action="/ui/receipt"] button`),
			chromedp.WaitVisible(css(`form[action="/ui/receipt/reply"]`)))
		if u := eval[string](b, `location.href`); strings.Contains(u, receipt) || strings.Contains(u, "?") {
			t.Errorf("receipt view's URL: %q", u)
		}
		b.check("receipt", lang)
	}
	b.setLang("en")
	b.run("answer by receipt", chromedp.Navigate(h.url+"/ui/receipt"), chromedp.SendKeys(css("#receipt"), receipt),
		submit(`form[action="/ui/receipt"] button`),
		chromedp.SendKeys(css(`form[action="/ui/receipt/reply"] textarea`), "The east exit by the lifts."),
		submit(`form[action="/ui/receipt/reply"] button`), chromedp.WaitVisible(css(".notice")))
	if s := b.text("main"); !strings.Contains(s, "The east exit by the lifts.") {
		t.Errorf("receipt view after answering: %q", s)
	}

	// The peer supporter takes up a request.
	b.signIn(people[auth.RolePeerSupporter])
	b.everyLanguage("peer-inbox", "/ui/peer-support/inbox", "article.card")
	b.run("take up request", submit(`form[action$="/acknowledge"] button`), chromedp.WaitVisible(css(".notice")))
	b.signOut()

	// Policy staff: trends, with suppressed cells.
	b.signIn(people[auth.RolePolicyAnalyst])
	b.everyLanguage("trends", "/ui/trends", "svg.chart")
	csv, err := chromedp.Run(ctx, chromedp.AttributeValue(css(`a[download]`), "href"))
	if err != nil || !strings.HasPrefix(csv.Value, "/ui/trends.csv") {
		t.Errorf("CSV link %q: %v", csv.Value, err)
	}
	bars, err := chromedp.Run(ctx, chromedp.TextContent(css("svg.chart")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(bars, "Medication") || !regexp.MustCompile(`\d`).MatchString(bars) {
		t.Errorf("bar chart lacks the medication count: %q", bars)
	}
	b.signOut()

	// The administrator: the named signal's audit trail, and the erasure
	// screen (nothing is erased here; TestAdminScreens erases).
	b.signIn(people[auth.RoleAdmin])
	b.everyLanguage("audit", "/ui/audit?signal="+namedID, "table")
	if s := b.text("table"); !strings.Contains(s, "Filed a signal") || !strings.Contains(s, "Escalate") {
		t.Errorf("the named signal's audit trail: %q", s)
	}
	b.everyLanguage("erase", "/ui/erasures", "#signalId")

	for _, name := range b.order {
		if n := b.screens[name]; n != len(web.Languages) {
			t.Errorf("screen %s checked in %d languages", name, n)
		}
	}
	writeIndex(t, b)
	t.Logf("%d screens checked in %d languages; %d screenshots in %s; %s", len(b.order), len(web.Languages), len(b.shots), b.dir, time.Since(start).Round(time.Second))
}

// writeIndex writes index.html beside the screenshots: every screen in a
// row, one column per language.
func writeIndex(t *testing.T, b *browserTest) {
	var s strings.Builder
	s.WriteString("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Safesignal screenshots</title>" +
		"<style>img{width:260px;border:1px solid #ccc}td{vertical-align:top}</style><table><tr><th>screen</th>")
	for _, l := range web.Languages {
		s.WriteString("<th>" + l + "</th>")
	}
	s.WriteString("<th>en, 360 px</th></tr>")
	for i, name := range b.order {
		s.WriteString("<tr><th>" + html.EscapeString(name) + "</th>")
		for _, l := range append(append([]string{}, web.Languages...), "en-360px") {
			f := fmt.Sprintf("%02d-%s-%s.png", i+1, name, l)
			s.WriteString(`<td><a href="` + f + `"><img src="` + f + `" alt="` + html.EscapeString(name+" "+l) + `"></a></td>`)
		}
		s.WriteString("</tr>")
	}
	s.WriteString("</table></html>\n")
	if err := os.WriteFile(filepath.Join(b.dir, "index.html"), []byte(s.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }
