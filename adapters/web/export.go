package web

import (
	"bytes"
	"net/http"
	"net/url"
)

// screenExport is the bulk export, offered on the triage board.
var screenExport = screen{"export", http.MethodGet, "/api/v1/exports/signals", "/ui/exports/signals"}

// exportSignals streams the API's export of the organisation's signals to
// the browser as it is written: the download is never held whole here.
// A refusal (a problem) is shown as a page instead.
func (h *Handler) exportSignals(w http.ResponseWriter, r *http.Request, s session) {
	c := chooseLanguage(r)
	format := "ndjson"
	if r.URL.Query().Get("format") == "csv" {
		format = "csv"
	}
	query := url.Values{"format": {format}}
	if format == "csv" {
		// Downloaded from the browser, a CSV is opened in a spreadsheet:
		// the byte-order mark keeps ø, å and ä readable there.
		query.Set("bom", "true")
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/api/v1/exports/signals?"+query.Encode(), http.NoBody)
	if err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "error.notfound")
		return
	}
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("Authorization", "Bearer "+s.token)
	if id := r.Header.Get("X-Correlation-ID"); id != "" {
		req.Header.Set("X-Correlation-ID", id)
	}
	pt := &passThrough{w: w, header: http.Header{}}
	h.opts.API.ServeHTTP(pt, req)
	if pt.status != 0 && pt.status != http.StatusOK {
		h.render(w, r, pt.status, "error", "error.title", Page{Errors: problemMessages(c, apiResult{status: pt.status, header: pt.header, body: pt.refusal.Bytes()})})
	}
}

// passThrough hands a 200 answer of the API to the browser as it comes,
// with its download headers, and keeps any other answer to be shown as a
// page.
type passThrough struct {
	w       http.ResponseWriter
	header  http.Header
	status  int
	refusal bytes.Buffer
}

func (p *passThrough) Header() http.Header { return p.header }

func (p *passThrough) WriteHeader(code int) {
	if p.status != 0 {
		return
	}
	p.status = code
	if code != http.StatusOK {
		return
	}
	for _, k := range []string{"Content-Type", "Content-Disposition", "Cache-Control", "X-Correlation-ID"} {
		if v := p.header.Get(k); v != "" {
			p.w.Header().Set(k, v)
		}
	}
	p.w.WriteHeader(code)
}

func (p *passThrough) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.WriteHeader(http.StatusOK)
	}
	if p.status != http.StatusOK {
		return p.refusal.Write(b)
	}
	return p.w.Write(b)
}

// Unwrap lets the API flush the download and extend its write deadline.
func (p *passThrough) Unwrap() http.ResponseWriter { return p.w }
