package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
)

// fhirAdverseEventElements are the elements of FHIR R5 AdverseEvent
// (https://hl7.org/fhir/R5/adverseevent.html), with the resource's
// inherited ones. The official schema (fhirschema_test.go) checks the
// same; this list gives a readable failure first.
var fhirAdverseEventElements = []string{
	"resourceType", "id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension",
	"identifier", "status", "actuality", "category", "code", "subject", "encounter",
	"occurrenceDateTime", "occurrencePeriod", "occurrenceTiming", "detected", "recordedDate", "resultingEffect",
	"location", "seriousness", "outcome", "recorder", "participant", "study", "expectedInResearchStudy",
	"suspectEntity", "contributingFactor", "preventiveAction", "mitigatingAction", "supportingInfo", "note",
}

// checkAdverseEvent checks a resource against the R5 AdverseEvent rules
// the export must meet: the required elements (status, actuality, subject)
// with their required value sets, no element the resource does not have,
// codings with system and code, dateTimes that parse, and a subject
// reference that says something.
func checkAdverseEvent(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var ae map[string]any
	if err := json.Unmarshal(raw, &ae); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	for k := range ae {
		if !slices.Contains(fhirAdverseEventElements, k) {
			t.Errorf("AdverseEvent has no element %q", k)
		}
	}
	if ae["resourceType"] != "AdverseEvent" {
		t.Errorf("resourceType %v", ae["resourceType"])
	}
	if s, _ := ae["status"].(string); !slices.Contains([]string{"in-progress", "completed", "entered-in-error", "unknown"}, s) {
		t.Errorf("status %v is not in the required value set", ae["status"])
	}
	if a, _ := ae["actuality"].(string); a != "actual" && a != "potential" {
		t.Errorf("actuality %v is not in the required value set", ae["actuality"])
	}
	subject, _ := ae["subject"].(map[string]any)
	if subject == nil || (subject["reference"] == nil && subject["identifier"] == nil && subject["display"] == nil) {
		t.Errorf("subject (1..1) is missing or empty: %v", ae["subject"])
	}
	for _, k := range []string{"occurrenceDateTime", "detected", "recordedDate"} {
		if v, ok := ae[k].(string); ok {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				t.Errorf("%s %q is not a FHIR dateTime", k, v)
			}
		}
	}
	var concepts []any
	for _, k := range []string{"category", "outcome"} {
		if list, ok := ae[k].([]any); ok {
			concepts = append(concepts, list...)
		}
	}
	for _, k := range []string{"code", "seriousness"} {
		if c, ok := ae[k]; ok {
			concepts = append(concepts, c)
		}
	}
	for _, c := range concepts {
		cm, _ := c.(map[string]any)
		codings, _ := cm["coding"].([]any)
		if len(codings) == 0 && cm["text"] == nil {
			t.Errorf("empty CodeableConcept %v", c)
		}
		for _, cd := range codings {
			m, _ := cd.(map[string]any)
			if s, _ := m["system"].(string); !strings.Contains(s, ":") {
				t.Errorf("coding without a system URI: %v", m)
			}
			if code, _ := m["code"].(string); code == "" || strings.TrimSpace(code) != code {
				t.Errorf("coding without a code: %v", m)
			}
		}
	}
	return ae
}

func codes(v any) []string {
	var out []string
	raw, _ := json.Marshal(v)
	var c struct {
		Coding []struct{ Code string }
	}
	_ = json.Unmarshal(raw, &c)
	for _, cd := range c.Coding {
		out = append(out, cd.Code)
	}
	return out
}

func TestFHIRAdverseEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	file := func(mod func(map[string]any)) string {
		b := validBody()
		mod(b)
		r := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, b), nil)
		if r.status != http.StatusCreated {
			t.Fatalf("file: %d %s", r.status, r.body)
		}
		return strings.TrimPrefix(r.header.Get("Location"), "/api/v1/signals/")
	}
	harmful := file(func(b map[string]any) {
		b["kind"], b["harm"], b["description"] = "harmful_incident", "severe", "Patient 111222333 got a tenfold morphine dose."
	})
	nearMiss := file(func(b map[string]any) { b["category"] = "behaviour" })

	r := h.do(http.MethodGet, "/api/v1/signals/"+harmful+"/fhir", officer, nil, nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/fhir+json" {
		t.Fatalf("export: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	ae := checkAdverseEvent(t, r.body)
	if ae["actuality"] != "actual" || ae["status"] != "in-progress" || ae["id"] != harmful {
		t.Errorf("harmful incident: %s", r.body)
	}
	cats, _ := ae["category"].([]any)
	if len(cats) != 1 || !slices.Equal(codes(cats[0]), []string{"product-use-error", "medication"}) {
		t.Errorf("category %v", ae["category"])
	}
	if got := codes(ae["seriousness"]); !slices.Equal(got, []string{"serious"}) {
		t.Errorf("seriousness %v", got)
	}
	outcome, _ := ae["outcome"].([]any)
	if len(outcome) != 1 || !slices.Equal(codes(outcome[0]), []string{"severe-harm"}) {
		t.Errorf("outcome %v", ae["outcome"])
	}
	if strings.Contains(string(r.body), "111222333") || strings.Contains(string(r.body), "alice") || !strings.Contains(string(r.body), "[personal number removed]") {
		t.Errorf("the export leaks a personal number or the reporter: %s", r.body)
	}

	r = h.do(http.MethodGet, "/api/v1/signals/"+nearMiss+"/fhir", officer, nil, nil)
	ae = checkAdverseEvent(t, r.body)
	cats, _ = ae["category"].([]any)
	if ae["actuality"] != "potential" || ae["seriousness"] != nil || ae["outcome"] != nil || len(cats) != 1 || !slices.Equal(codes(cats[0]), []string{"behaviour"}) {
		t.Errorf("near miss: %s", r.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/signals/"+nearMiss+"/reject", officer, []byte(`{"reason":"test"}`), map[string]string{"If-Match": `"1"`}); r.status != http.StatusOK {
		t.Fatalf("reject: %d %s", r.status, r.body)
	}
	if ae := checkAdverseEvent(t, h.do(http.MethodGet, "/api/v1/signals/"+nearMiss+"/fhir", officer, nil, nil).body); ae["status"] != "entered-in-error" {
		t.Errorf("rejected: %v", ae["status"])
	}
	other := h.token(auth.Principal{Subject: "oskar", Role: auth.RoleSafetyOfficer, Organisation: "haukeland"})
	if r := h.do(http.MethodGet, "/api/v1/signals/"+harmful+"/fhir", other, nil, nil); r.status != http.StatusNotFound {
		t.Errorf("another organisation's officer: %d", r.status)
	}
}
