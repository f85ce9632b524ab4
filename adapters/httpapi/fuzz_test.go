package httpapi

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeStrict feeds arbitrary bytes to the filing decoder: it must
// never panic, and whatever it accepts must be one valid JSON object whose
// keys are exactly the request's field names.
func FuzzDecodeStrict(f *testing.F) {
	for _, seed := range []string{
		`{"region":"NL-UT","kind":"near_miss","description":"x"}`,
		`{"kind":"a","kind":"b"}`,
		`{"Kind":"a"}`,
		`{"x":{"a":[1,2,{"b":null}]}}`,
		`{} {}`,
		`[`,
		`{"anonymous":true,"peerSupportRequested":false}`,
		"{\"description\":\"\xff\"}",
		`{"description":"\u0000"}`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req reportRequest
		if p := decodeStrict(body, &req); p != nil {
			if p.Status != 400 {
				t.Fatalf("decoder answered %d", p.Status)
			}
			return
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(body, &keys); err != nil {
			t.Fatalf("accepted a body that is not a JSON object: %q: %v", body, err)
		}
		fields := jsonFields(reflectType(&req))
		for k := range keys {
			if _, ok := fields[k]; !ok {
				t.Fatalf("accepted unknown key %q", k)
			}
		}
	})
}
