package httpapi

import (
	"net/http"

	"github.com/safesignal/safesignal/domain/identifiers"
)

// identifierWarning tells a reporter that a text holds what looks like a
// personal identification number: filing goes ahead (the reporter's own
// organisation may need it), but the reporter is asked to remove it, and
// everything shown beyond the organisation masks it.
type identifierWarning struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Kind    string `json:"kind"`
	Country string `json:"country"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Message string `json:"message"`
}

func identifierWarnings(fields map[string]string) []identifierWarning {
	out := []identifierWarning{}
	for _, field := range []string{"description", "immediateActions", "message", "summary", "text"} {
		text, ok := fields[field]
		if !ok {
			continue
		}
		for _, m := range identifiers.Detect(text) {
			out = append(out, identifierWarning{
				Field: field, Code: "personal_identifier", Kind: string(m.Kind), Country: m.Kind.Country(), Start: m.Start, End: m.End,
				Message: "this looks like a personal identification number; please remove it, it is not needed to learn from the signal",
			})
		}
	}
	return out
}

type checkRequest struct {
	Description      string `json:"description"`
	ImmediateActions string `json:"immediateActions"`
}

// checkText answers POST /api/v1/text-checks: the warnings a filing of
// this text would get, before it is filed (nothing is stored or audited:
// the text is not kept).
func (s *Server) checkText(w http.ResponseWriter, r *http.Request) {
	body, prob := readBody(w, r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	var req checkRequest
	if prob := decodeStrict(body, &req); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"warnings": identifierWarnings(map[string]string{"description": req.Description, "immediateActions": req.ImmediateActions})})
}

// maskIdentifiers masks personal numbers in text shown beyond the
// organisation that holds the signal.
func maskIdentifiers(text string) string { return identifiers.Mask(text) }
