package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections/signaldetail"
)

// FHIR R5 AdverseEvent export of a signal. The mapping of our codes is
// documented in docs/INTEROPERABILITY.md; fhirtest-style checks of the
// required elements are in fhir_test.go.

// Code systems. Ours are named under the project's URL; the HL7 ones are
// those of the FHIR R5 AdverseEvent bindings.
const (
	fhirSystemCategory      = "http://terminology.hl7.org/CodeSystem/adverse-event-category"
	fhirSystemSeriousness   = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
	fhirSystemICPSType      = "https://github.com/safesignal/safesignal/fhir/CodeSystem/icps-incident-type"
	fhirSystemICPSClass     = "https://github.com/safesignal/safesignal/fhir/CodeSystem/icps-incident-class"
	fhirSystemAHRQHarm      = "https://github.com/safesignal/safesignal/fhir/CodeSystem/ahrq-harm-scale"
	fhirSystemFactor        = "https://github.com/safesignal/safesignal/fhir/CodeSystem/icps-contributing-factor"
	fhirSystemSpecialty     = "https://github.com/safesignal/safesignal/fhir/CodeSystem/specialty"
	fhirIdentifierSystem    = "urn:ietf:rfc:3986"
	fhirContentType         = "application/fhir+json"
	fhirUnidentifiedPatient = "patient not identified (Safesignal keeps no patient data)"
)

type fhirCoding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

type fhirConcept struct {
	Coding []fhirCoding `json:"coding,omitempty"`
	Text   string       `json:"text,omitempty"`
}

type fhirReference struct {
	Display string `json:"display"`
}

type fhirIdentifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type fhirAnnotation struct {
	Text string `json:"text"`
}

type fhirContributingFactor struct {
	ItemCodeableConcept fhirConcept `json:"itemCodeableConcept"`
}

type fhirMeta struct {
	LastUpdated time.Time `json:"lastUpdated"`
}

// fhirAdverseEvent is the subset of FHIR R5 AdverseEvent the export fills.
type fhirAdverseEvent struct {
	ResourceType       string                   `json:"resourceType"`
	ID                 string                   `json:"id"`
	Meta               fhirMeta                 `json:"meta"`
	Identifier         []fhirIdentifier         `json:"identifier"`
	Status             string                   `json:"status"`
	Actuality          string                   `json:"actuality"`
	Category           []fhirConcept            `json:"category"`
	Code               *fhirConcept             `json:"code,omitempty"`
	Subject            fhirReference            `json:"subject"`
	OccurrenceDateTime time.Time                `json:"occurrenceDateTime"`
	Detected           time.Time                `json:"detected"`
	RecordedDate       time.Time                `json:"recordedDate"`
	Seriousness        *fhirConcept             `json:"seriousness,omitempty"`
	Outcome            []fhirConcept            `json:"outcome,omitempty"`
	ContributingFactor []fhirContributingFactor `json:"contributingFactor,omitempty"`
	Note               []fhirAnnotation         `json:"note,omitempty"`
}

// fhirCategories maps WHO ICPS incident types to the HL7 adverse-event
// categories where one fits; the others carry only the ICPS coding.
var fhirCategories = map[domain.Category]fhirCoding{
	domain.CategoryMedication:     {System: fhirSystemCategory, Code: "product-use-error", Display: "Product Use Error"},
	domain.CategoryBlood:          {System: fhirSystemCategory, Code: "product-use-error", Display: "Product Use Error"},
	domain.CategoryMedicalDevice:  {System: fhirSystemCategory, Code: "medical-device-use-error", Display: "Medical Device Use Error"},
	domain.CategoryInfrastructure: {System: fhirSystemCategory, Code: "unsafe-physical-environment", Display: "Unsafe Physical Environment"},
}

// fhirHarm is the AHRQ Common Formats harm scale for our harm codes.
var fhirHarm = map[domain.Harm]fhirCoding{
	domain.HarmNone:     {System: fhirSystemAHRQHarm, Code: "no-harm", Display: "No harm"},
	domain.HarmMild:     {System: fhirSystemAHRQHarm, Code: "mild-harm", Display: "Mild harm"},
	domain.HarmModerate: {System: fhirSystemAHRQHarm, Code: "moderate-harm", Display: "Moderate harm"},
	domain.HarmSevere:   {System: fhirSystemAHRQHarm, Code: "severe-harm", Display: "Severe harm"},
	domain.HarmDeath:    {System: fhirSystemAHRQHarm, Code: "death", Display: "Death"},
}

// fhirStatus maps the lifecycle to AdverseEvent.status.
func fhirStatus(s domain.Status) string {
	switch s {
	case domain.StatusReported, domain.StatusAcknowledged:
		return "in-progress"
	case domain.StatusClosed:
		return "completed"
	case domain.StatusRejected, domain.StatusDuplicate:
		return "entered-in-error"
	}
	return "unknown"
}

// fhirActuality: a near miss or an unsafe situation could have harmed; an
// incident reached the patient.
func fhirActuality(k domain.Kind) string {
	if k == domain.KindNearMiss || k == domain.KindUnsafeSituation {
		return "potential"
	}
	return "actual"
}

// AdverseEventOf renders a signal as a FHIR R5 AdverseEvent. Free text is
// masked of personal identification numbers; the reporter is never named.
func adverseEventOf(v signaldetail.View) fhirAdverseEvent {
	ae := fhirAdverseEvent{
		ResourceType: "AdverseEvent", ID: v.ID.String(), Meta: fhirMeta{LastUpdated: v.UpdatedAt},
		Identifier: []fhirIdentifier{{System: fhirIdentifierSystem, Value: "urn:uuid:" + v.ID.String()}},
		Status:     fhirStatus(v.Status), Actuality: fhirActuality(v.Kind),
		Subject:            fhirReference{Display: fhirUnidentifiedPatient},
		OccurrenceDateTime: v.OccurredAt, Detected: v.ReportedAt, RecordedDate: v.ReportedAt,
	}
	cat := fhirConcept{Coding: []fhirCoding{{System: fhirSystemICPSType, Code: string(v.Category)}}, Text: string(v.Category)}
	if c, ok := fhirCategories[v.Category]; ok {
		cat.Coding = append([]fhirCoding{c}, cat.Coding...)
	}
	ae.Category = []fhirConcept{cat}
	ae.Code = &fhirConcept{Coding: []fhirCoding{{System: fhirSystemICPSClass, Code: string(v.Kind)}, {System: fhirSystemSpecialty, Code: string(v.Specialty)}}, Text: string(v.Kind)}
	if v.Kind == domain.KindHarmfulIncident || v.Kind == domain.KindNoHarmIncident {
		serious := "non-serious"
		if v.Harm == domain.HarmSevere || v.Harm == domain.HarmDeath {
			serious = "serious"
		}
		ae.Seriousness = &fhirConcept{Coding: []fhirCoding{{System: fhirSystemSeriousness, Code: serious}}}
		if h, ok := fhirHarm[v.Harm]; ok {
			ae.Outcome = []fhirConcept{{Coding: []fhirCoding{h}, Text: h.Display}}
		}
	}
	for _, f := range v.ContributingFactors {
		ae.ContributingFactor = append(ae.ContributingFactor, fhirContributingFactor{ItemCodeableConcept: fhirConcept{Coding: []fhirCoding{{System: fhirSystemFactor, Code: string(f)}}}})
	}
	if v.Description != "" {
		ae.Note = append(ae.Note, fhirAnnotation{Text: maskIdentifiers(v.Description)})
	}
	return ae
}

// getFHIR answers GET /api/v1/signals/{id}/fhir for the safety officers of
// the signal's organisation.
func (s *Server) getFHIR(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id, prob := signalID(r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	v, ok, err := s.deps.Signals.Get(r.Context(), id)
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	if !ok || !officerOfSignal(p, v) {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Signal not found", "no signal with this id is visible to you"))
		return
	}
	if prob := s.record(r, "signal.fhir", id.String()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	body, err := json.Marshal(adverseEventOf(v))
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	w.Header().Set("Content-Type", fhirContentType)
	w.Header().Set("ETag", etag(v.Version))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
