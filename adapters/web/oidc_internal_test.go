package web

import (
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

func TestEndSessionURL(t *testing.T) {
	t.Parallel()
	o := &OIDCSignIn{endSession: "https://idp.example/logout?ui=1", publicURL: "https://safesignal.example", oauth: oauth2.Config{ClientID: "safesignal"}}
	u, err := url.Parse(o.endSessionURL("eyJ.id.token"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "idp.example" || q.Get("ui") != "1" || q.Get("client_id") != "safesignal" ||
		q.Get("post_logout_redirect_uri") != "https://safesignal.example/" || q.Get("id_token_hint") != "eyJ.id.token" {
		t.Errorf("end session URL %s", u)
	}
	var none *OIDCSignIn
	if got := none.endSessionURL("x"); got != "" {
		t.Errorf("without a provider: %q", got)
	}
	if got := (&OIDCSignIn{}).endSessionURL("x"); got != "" {
		t.Errorf("provider without end_session_endpoint: %q", got)
	}
}

func TestFlowCookieRoundTrip(t *testing.T) {
	t.Parallel()
	tok := "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	for _, tc := range []struct{ next, want string }{
		{"/ui/signals/1.2?x=a.b", "/ui/signals/1.2?x=a.b"},
		{"", ""},
		{"//evil.example", ""},
		{"/api/v1/signals", ""},
		{"/ui/\r\nSet-Cookie: x", ""},
	} {
		f, ok := decodeFlow(flow{tok, tok, tok, tc.next}.encode())
		if !ok || f.next != tc.want || f.state != tok || f.verifier != tok {
			t.Errorf("next %q: %+v %v, want next %q", tc.next, f, ok, tc.want)
		}
	}
	for _, bad := range []string{"", "a.b.c", tok + "." + tok + ".short.x", tok + "." + tok + "." + tok + ".%zz"} {
		if _, ok := decodeFlow(bad); ok {
			t.Errorf("decodeFlow(%q) accepted", bad)
		}
	}
}
