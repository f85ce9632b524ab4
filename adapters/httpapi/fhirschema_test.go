package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/domain"
)

// The official FHIR R5 JSON schema (openapi/fhir.schema.json of the HL7
// package hl7.fhir.r5.core 5.0.0, CC0; testdata/fhir/README.md says how it
// was obtained), compiled once per test at the AdverseEvent definition.
func adverseEventSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/fhir/fhir.schema.json.gz")
	if err != nil {
		t.Fatalf("open schema: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("gunzip schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(zr)
	if err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	const url = "https://hl7.org/fhir/R5/fhir.schema.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft6)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	s, err := c.Compile(url + "#/definitions/AdverseEvent")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

func validateFHIR(t *testing.T, s *jsonschema.Schema, raw []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(v)
}

// The schema catches what the export must never do: a wrong element, a
// wrong type, a malformed code or dateTime. It does not list the required
// value sets of status and actuality (both are plain codes in the R5
// schema); checkAdverseEvent holds the export to those.
func TestFHIRSchemaRejectsBrokenResources(t *testing.T) {
	t.Parallel()
	s := adverseEventSchema(t)
	good := `{"resourceType":"AdverseEvent","status":"completed","actuality":"actual","subject":{"display":"x"}}`
	if err := validateFHIR(t, s, []byte(good)); err != nil {
		t.Fatalf("a minimal valid AdverseEvent fails: %v", err)
	}
	for name, raw := range map[string]string{
		"unknown element":    `{"resourceType":"AdverseEvent","status":"completed","actuality":"actual","subject":{"display":"x"},"severity":{}}`,
		"missing subject":    `{"resourceType":"AdverseEvent","status":"completed","actuality":"actual"}`,
		"code with spaces":   `{"resourceType":"AdverseEvent","status":" completed ","actuality":"actual","subject":{"display":"x"}}`,
		"category as coding": `{"resourceType":"AdverseEvent","status":"completed","actuality":"actual","subject":{"display":"x"},"category":{"system":"s","code":"c"}}`,
		"bad dateTime":       `{"resourceType":"AdverseEvent","status":"completed","actuality":"actual","subject":{"display":"x"},"occurrenceDateTime":"yesterday"}`,
		"wrong resource":     `{"resourceType":"Patient","status":"completed","actuality":"actual","subject":{"display":"x"}}`,
	} {
		if err := validateFHIR(t, s, []byte(raw)); err == nil {
			t.Errorf("%s: the schema accepts %s", name, raw)
		}
	}
}

// Every test signal's export validates against the official schema: each
// incident class with each degree of harm, each ICPS category, an
// anonymous filing, and signals in every status the export maps.
func TestFHIRExportValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	s := adverseEventSchema(t)
	h := newHarness(t)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	var ids []string
	file := func(mod func(map[string]any)) string {
		t.Helper()
		b := validBody()
		mod(b)
		r := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, b), nil)
		if r.status != http.StatusCreated {
			t.Fatalf("file %v: %d %s", b, r.status, r.body)
		}
		id := strings.TrimPrefix(r.header.Get("Location"), "/api/v1/signals/")
		ids = append(ids, id)
		return id
	}
	for _, k := range domain.Kinds() {
		for _, hm := range domain.Harms() {
			if (k == domain.KindHarmfulIncident) == (hm == domain.HarmNone) {
				continue // the domain refuses these pairs
			}
			file(func(b map[string]any) { b["kind"], b["harm"] = string(k), string(hm) })
		}
	}
	for _, c := range domain.Categories() {
		file(func(b map[string]any) { b["category"] = string(c) })
	}
	file(func(b map[string]any) {
		b["anonymous"], b["description"] = true, "Wrong-site marking; patient 111222333 was moved."
	})
	rejected := file(func(map[string]any) {})
	if r := h.do(http.MethodPost, "/api/v1/signals/"+rejected+"/reject", officer, []byte(`{"reason":"test"}`), map[string]string{"If-Match": `"1"`}); r.status != http.StatusOK {
		t.Fatalf("reject: %d %s", r.status, r.body)
	}
	acknowledged := file(func(map[string]any) {})
	if r := h.do(http.MethodPost, "/api/v1/signals/"+acknowledged+"/acknowledge", officer, []byte(`{}`), map[string]string{"If-Match": `"1"`}); r.status != http.StatusOK {
		t.Fatalf("acknowledge: %d %s", r.status, r.body)
	}
	classified := file(func(map[string]any) {})
	for i, step := range []struct{ cmd, body string }{
		{"acknowledge", `{}`},
		{"classify", `{"kind":"harmful_incident","category":"medication","harm":"severe","contributingFactors":["medication_process","communication"],"reportable":true,"note":"calamity"}`},
	} {
		if r := h.do(http.MethodPost, "/api/v1/signals/"+classified+"/"+step.cmd, officer, []byte(step.body), map[string]string{"If-Match": fmt.Sprintf("%q", fmt.Sprint(i+1))}); r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", step.cmd, r.status, r.body)
		}
	}

	for _, id := range ids {
		r := h.do(http.MethodGet, "/api/v1/signals/"+id+"/fhir", officer, nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("export %s: %d %s", id, r.status, r.body)
		}
		if err := validateFHIR(t, s, r.body); err != nil {
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, r.body, "", "  ")
			t.Errorf("export of %s does not validate: %v\n%s", id, err, pretty.String())
		}
		ae := checkAdverseEvent(t, r.body)
		if id == classified && ae["contributingFactor"] == nil {
			t.Errorf("the classified signal exports no contributing factor: %s", r.body)
		}
	}
	if len(ids) < 20 {
		t.Fatalf("only %d signals were exported", len(ids))
	}
}
