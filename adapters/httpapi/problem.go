package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/safesignal/safesignal/domain"
)

// Problem is an RFC 9457 problem detail. Errors names the fields at fault.
type Problem struct {
	Type          string              `json:"type"`
	Title         string              `json:"title"`
	Status        int                 `json:"status"`
	Detail        string              `json:"detail,omitempty"`
	Instance      string              `json:"instance,omitempty"`
	CorrelationID string              `json:"correlationId,omitempty"`
	Errors        []domain.FieldError `json:"errors,omitempty"`
}

// problemType builds the type URI of a problem kind; docs/API.md lists them.
func problemType(kind string) string { return "/problems/" + kind }

func newProblem(status int, kind, title, detail string, fields ...domain.FieldError) *Problem {
	return &Problem{Type: problemType(kind), Title: title, Status: status, Detail: detail, Errors: fields}
}

func fieldProblem(status int, kind, title, field, code, message string) *Problem {
	return newProblem(status, kind, title, message, domain.FieldError{Field: field, Code: code, Message: message})
}

func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	p.Instance = r.URL.Path
	p.CorrelationID = correlationID(r.Context())
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
