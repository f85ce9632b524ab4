package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/adapters/httpapi"
	lessonsvc "github.com/safesignal/safesignal/adapters/lessons"
	"github.com/safesignal/safesignal/adapters/peersupport"
	"github.com/safesignal/safesignal/adapters/web"
	"github.com/safesignal/safesignal/eventstore"
	"github.com/safesignal/safesignal/eventstore/jstest"
	"github.com/safesignal/safesignal/projections"
	"github.com/safesignal/safesignal/projections/lessons"
	peerread "github.com/safesignal/safesignal/projections/peersupport"
	"github.com/safesignal/safesignal/projections/signaldetail"
	"github.com/safesignal/safesignal/projections/trends"
	"go.uber.org/zap"
)

// harness is the whole service (real embedded JetStream, the API and the
// web UI composed as serve composes them) on real HTTP.
type harness struct {
	t   *testing.T
	url string
	api *httpapi.Server
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	srv := jstest.Start(t)
	_, js := srv.JetStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log, err := eventstore.Open(ctx, js, eventstore.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := projections.OpenCodec(ctx, js, bytes.Repeat([]byte{7}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := commands.New(log, reg, commands.Options{Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.LoadOrCreateLocalIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	trail, err := audit.Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	detail, cube := signaldetail.NewMemory(), trends.NewMemory()
	peerRequests, library := peerread.NewMemory(), lessons.NewMemory()
	var runners []*projections.Runner
	var done []chan struct{}
	for _, p := range []projections.Projection{detail, cube, peerRequests, library} {
		r := projections.NewRunner(log, reg, p, projections.RunnerOptions{ConsumerName: p.Name() + "_web"}, zap.NewNop())
		d := make(chan struct{})
		go func() {
			defer close(d)
			if err := r.Run(ctx); err != nil {
				t.Errorf("%s runner: %v", p.Name(), err)
			}
		}()
		runners, done = append(runners, r), append(done, d)
	}
	t.Cleanup(func() {
		cancel()
		for _, d := range done {
			<-d
		}
	})
	api := httpapi.New(httpapi.Deps{
		Commands: cmds, Signals: detail, Verifier: issuer.Verifier(), Audit: trail, Trends: cube, TrendsK: 2,
		PeerSupport: peersupport.New(log, reg, nil), PeerRequests: peerRequests,
		Lessons: lessonsvc.New(log, reg, nil), LessonLibrary: library,
		WaitFor: func(ctx context.Context, seq uint64) error {
			for _, r := range runners {
				if err := r.WaitFor(ctx, seq); err != nil {
					return err
				}
			}
			return nil
		},
		Ready:     func(context.Context) error { return nil },
		Logger:    zap.NewNop(),
		RateLimit: httpapi.RateLimit{PerSecond: 1000, Burst: 1000},
	})
	ui, err := web.New(web.Options{API: api, Verifier: issuer.Verifier(), Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(web.Compose(api, ui))
	t.Cleanup(ts.Close)
	return &harness{t: t, url: ts.URL, api: api}
}

// client is one browser-like user: a cookie jar that does not follow
// redirects by itself.
type client struct {
	h    *harness
	http *http.Client
}

func (h *harness) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	location string
	body     string
}

func (c *client) do(req *http.Request) page {
	c.h.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b)}
}

func (c *client) get(path string, header ...string) page {
	req, _ := http.NewRequest(http.MethodGet, c.h.url+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

func (c *client) post(path string, form url.Values) page {
	req, _ := http.NewRequest(http.MethodPost, c.h.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token of the last form the client was shown.
func (c *client) csrf(p page) string {
	c.h.t.Helper()
	m := csrfRe.FindStringSubmatch(p.body)
	if m == nil {
		c.h.t.Fatalf("no CSRF token in page: %.300s", p.body)
	}
	return m[1]
}

// signIn signs in through the development sign-in form.
func (c *client) signIn(p auth.Principal) {
	c.h.t.Helper()
	form := c.get("/ui/signin")
	res := c.post("/ui/signin", url.Values{"csrf": {c.csrf(form)}, "name": {p.Subject}, "role": {string(p.Role)},
		"org": {p.Organisation}, "specialty": {p.Specialty}, "region": {p.Region}})
	if res.status != http.StatusSeeOther {
		c.h.t.Fatalf("sign-in: %d %.500s", res.status, res.body)
	}
}

// catalogueKeys are the English catalogue's keys, and keyShape matches a
// word that looks like one (a group of the catalogue, a dot, a name), so
// that a key missing from every catalogue is caught too.
var catalogueKeys, keyShape = func() ([]string, *regexp.Regexp) {
	b, err := os.ReadFile("i18n/en.json")
	if err != nil {
		panic(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	keys := make([]string, 0, len(m))
	groups := map[string]bool{}
	for k := range m {
		keys = append(keys, k)
		groups[regexp.QuoteMeta(strings.SplitN(k, ".", 2)[0])] = true
	}
	alt := make([]string, 0, len(groups))
	for g := range groups {
		alt = append(alt, g)
	}
	sort.Strings(alt)
	return keys, regexp.MustCompile(`(?:^|[^\pL\pN_.-])((?:` + strings.Join(alt, "|") + `)\.[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9_])`)
}()

// rawKeys lists the catalogue keys (or key-shaped words) a page's text
// shows: a message that was never translated.
func rawKeys(text string) []string {
	var out []string
	for _, k := range catalogueKeys {
		if strings.Contains(text, k) {
			out = append(out, k)
		}
	}
	for _, m := range keyShape.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}
