package eventstore_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/eventstore"
)

type renamed struct {
	Name string `json:"name"`
}

func TestRegistryDecodesAndUpcasts(t *testing.T) {
	t.Parallel()
	r := eventstore.NewRegistry()
	if err := eventstore.Register[renamed](r, "Renamed", 2); err != nil {
		t.Fatal(err)
	}
	// Version 1 called the field "title".
	if err := r.RegisterUpcaster("Renamed", 1, func(data json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			Title string `json:"title"`
		}
		if err := json.Unmarshal(data, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(renamed{Name: v1.Title})
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     eventstore.Envelope
		want    renamed
		wantErr string
	}{
		{"current version", eventstore.Envelope{Type: "Renamed", SchemaVersion: 2, Data: []byte(`{"name":"a"}`)}, renamed{Name: "a"}, ""},
		{"old version is upcast", eventstore.Envelope{Type: "Renamed", SchemaVersion: 1, Data: []byte(`{"title":"b"}`)}, renamed{Name: "b"}, ""},
		{"unknown type", eventstore.Envelope{Type: "Other", SchemaVersion: 1, Data: []byte(`{}`)}, renamed{}, "unknown event type"},
		{"future version", eventstore.Envelope{Type: "Renamed", SchemaVersion: 3, Data: []byte(`{}`)}, renamed{}, "schema version 3"},
		{"bad payload", eventstore.Envelope{Type: "Renamed", SchemaVersion: 2, Data: []byte(`{"name":1}`)}, renamed{}, "decode event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.Decode(tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
	if err := eventstore.Register[renamed](r, "Renamed", 2); err == nil {
		t.Error("a second registration of one name was accepted")
	}
}

func TestDecodeCommitRefusesChangedBytes(t *testing.T) {
	t.Parallel()
	body := []byte(`{"format":1,"events":[{"type":"T","schemaVersion":1,"data":{}}]}`)
	if _, err := eventstore.DecodeCommit(body, eventstore.Digest(body)); err != nil {
		t.Fatalf("intact commit: %v", err)
	}
	changed := []byte(strings.Replace(string(body), `"T"`, `"U"`, 1))
	if _, err := eventstore.DecodeCommit(changed, eventstore.Digest(body)); !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("changed commit: want ErrCorrupt, got %v", err)
	}
	for _, bad := range []string{`{`, `{"format":9,"events":[{}]}`, `{"format":1,"events":[]}`} {
		if _, err := eventstore.DecodeCommit([]byte(bad), ""); !errors.Is(err, eventstore.ErrCorrupt) {
			t.Errorf("%s: want ErrCorrupt, got %v", bad, err)
		}
	}
}
