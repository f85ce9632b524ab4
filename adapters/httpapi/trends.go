package httpapi

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections/trends"
	"github.com/safesignal/safesignal/projections/trends/detect"
	"github.com/safesignal/safesignal/projections/trends/stats"
	"go.uber.org/zap"
)

const actionTrendsRead = "trends.read"

// trendParams are the query parameters of GET /api/v1/trends.
func trendParams() []string {
	return []string{"kind", "category", "harm", "specialty", "region", "organisation", "from", "to", "groupBy", "period", "basis", "asOf"}
}

// queryValues reads a parameter given repeated, comma-separated or both,
// checking every value; duplicates are dropped.
func queryValues(q url.Values, name string, valid func(string) bool) ([]string, *Problem) {
	var out []string
	for _, raw := range q[name] {
		for _, part := range strings.Split(raw, ",") {
			v := strings.TrimSpace(part)
			if !valid(v) {
				return nil, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", name, "invalid", "unknown value "+strconv.Quote(v)+" for "+name)
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out, nil
}

func validOrganisation(v string) bool {
	if v == "" || len(v) > domain.MaxOrganisationLength {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func queryDay(q url.Values, name string) (trends.Day, *Problem) {
	raw := q.Get(name)
	if raw == "" {
		return 0, nil
	}
	t, err := time.Parse(time.DateOnly, raw)
	if err != nil || t.Before(domain.Earliest()) || t.Year() > 9999 {
		return 0, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", name, "invalid", name+" must be a date such as 2026-04-01")
	}
	return trends.DayOf(t), nil
}

// parseTrendQuery reads and checks the query of GET /api/v1/trends.
func parseTrendQuery(q url.Values) (trends.Query, *Problem) {
	if prob := knownParams(q, trendParams()...); prob != nil {
		return trends.Query{}, prob
	}
	for name, vals := range q {
		if len(vals) > 1 && !slices.Contains([]string{"kind", "category", "harm", "specialty", "region", "organisation", "groupBy"}, name) {
			return trends.Query{}, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", name, "repeated", name+" may be given once")
		}
	}
	tq := trends.Query{Filter: map[trends.Dimension][]string{}, Basis: trends.BasisOccurred, Period: trends.PeriodWeek}
	valid := map[trends.Dimension]func(string) bool{
		trends.DimKind:         func(v string) bool { return domain.Kind(v).Valid() },
		trends.DimCategory:     func(v string) bool { return domain.Category(v).Valid() },
		trends.DimHarm:         func(v string) bool { return domain.Harm(v).Valid() },
		trends.DimSpecialty:    func(v string) bool { return domain.Specialty(v).Valid() },
		trends.DimRegion:       domain.ValidRegion,
		trends.DimOrganisation: validOrganisation,
	}
	for _, d := range trends.FilterDimensions() {
		vals, prob := queryValues(q, string(d), valid[d])
		if prob != nil {
			return trends.Query{}, prob
		}
		if len(vals) > 0 {
			tq.Filter[d] = vals
		}
	}
	switch b := trends.Basis(q.Get("basis")); b {
	case "":
	case trends.BasisOccurred, trends.BasisReported:
		tq.Basis = b
	default:
		return trends.Query{}, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "basis", "invalid", "basis must be occurred or reported")
	}
	switch p := trends.Period(q.Get("period")); p {
	case "":
	case trends.PeriodWeek, trends.PeriodMonth:
		tq.Period = p
	default:
		return trends.Query{}, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "period", "invalid", "period must be week or month")
	}
	groupBy, prob := queryValues(q, "groupBy", func(v string) bool { return slices.Contains(trends.Dimensions(), trends.Dimension(v)) })
	if prob != nil {
		return trends.Query{}, prob
	}
	if len(groupBy) > 2 {
		return trends.Query{}, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "groupBy", "too_many", "groupBy takes one or two dimensions")
	}
	for _, g := range groupBy {
		tq.GroupBy = append(tq.GroupBy, trends.Dimension(g))
	}
	if tq.From, prob = queryDay(q, "from"); prob != nil {
		return trends.Query{}, prob
	}
	if tq.To, prob = queryDay(q, "to"); prob != nil {
		return trends.Query{}, prob
	}
	if tq.From != 0 && tq.To != 0 && tq.From > tq.To {
		return trends.Query{}, fieldProblem(http.StatusBadRequest, "invalid-query", "Invalid query", "to", "invalid", "to must not be before from")
	}
	if tq.AsOf, prob = queryDay(q, "asOf"); prob != nil {
		return trends.Query{}, prob
	}
	return tq, nil
}

// getTrends answers GET /api/v1/trends: counts of signals under
// disclosure control, as JSON or (Accept: text/csv) CSV.
func (s *Server) getTrends(w http.ResponseWriter, r *http.Request) {
	if s.deps.Trends == nil {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Not found", "trend views are not enabled"))
		return
	}
	tq, prob := parseTrendQuery(r.URL.Query())
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := s.record(r, actionTrendsRead, ""); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	p, err := trends.Protect(r.Context(), s.deps.Trends, tq, s.deps.TrendsK)
	var refused *trends.RefusedError
	if errors.As(err, &refused) {
		var fields []domain.FieldError
		for _, param := range refused.Params {
			fields = append(fields, domain.FieldError{Field: param, Code: "disclosure", Message: "this filter would single out fewer than " + strconv.Itoa(refused.K) + " signals"})
		}
		writeProblem(w, r, newProblem(http.StatusBadRequest, "disclosure-refused", "Query refused by disclosure control", refused.Error(), fields...))
		return
	}
	if err != nil {
		s.deps.Logger.Error("trends query", zap.Error(err), zap.String("correlationId", correlationID(r.Context())))
		writeProblem(w, r, newProblem(http.StatusServiceUnavailable, "unavailable", "Trends unavailable", "the trend views could not be read; try again"))
		return
	}
	if wantsCSV(r) {
		writeTrendsCSV(w, p)
		return
	}
	writeJSON(w, http.StatusOK, trendsBody(p))
}

func wantsCSV(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/csv") {
			return true
		}
	}
	return false
}

func dayString(d trends.Day) string {
	if d == 0 {
		return ""
	}
	return d.Time().Format(time.DateOnly)
}

func trendsBody(p trends.Protected) map[string]any {
	cells := make([]map[string]any, 0, len(p.Cells))
	for _, c := range p.Cells {
		cell := map[string]any{}
		for i, d := range p.Query.GroupBy {
			cell[string(d)] = c.Key[i]
		}
		if c.Suppressed {
			cell["count"] = nil
			cell["suppressed"] = true
		} else {
			cell["count"] = c.Count
		}
		cells = append(cells, cell)
	}
	groupBy := make([]string, len(p.Query.GroupBy))
	for i, d := range p.Query.GroupBy {
		groupBy[i] = string(d)
	}
	filters := map[string][]string{}
	for d, v := range p.Query.Filter {
		filters[string(d)] = v
	}
	query := map[string]any{
		"basis": p.Query.Basis, "period": p.Query.Period, "groupBy": groupBy, "filters": filters,
	}
	if p.Query.From != 0 {
		query["from"] = dayString(p.Query.From)
	}
	if p.Query.To != 0 {
		query["to"] = dayString(p.Query.To)
	}
	if p.Query.AsOf != 0 {
		query["asOf"] = dayString(p.Query.AsOf)
	}
	body := map[string]any{"query": query, "k": p.K, "cells": cells, "omittedCells": p.Omitted}
	if p.TotalSuppressed {
		body["total"], body["totalSuppressed"] = nil, true
	} else {
		body["total"] = p.Total
	}
	return body
}

// writeTrendsCSV writes one header row (the grouping dimensions, count,
// suppressed) and a row per cell, RFC 4180 (CRLF, quoted as needed). A
// suppressed count is empty.
func writeTrendsCSV(w http.ResponseWriter, p trends.Protected) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="trends.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := make([]string, 0, len(p.Query.GroupBy)+2)
	for _, d := range p.Query.GroupBy {
		header = append(header, string(d))
	}
	_ = cw.Write(append(header, "count", "suppressed"))
	for _, c := range p.Cells {
		row := slices.Clone(c.Key)
		if c.Suppressed {
			row = append(row, "", "true")
		} else {
			row = append(row, strconv.Itoa(c.Count), "false")
		}
		_ = cw.Write(row)
	}
	cw.Flush()
}

// trendSignalView is a detected signal as the policy inbox shows it: a
// weekly count or a table cell of 1..k−1 is null, and a table with such a
// cell is withheld with its measures (from PRR and the margins the cell
// could be worked out).
type trendSignalView struct {
	Key       string          `json:"key"`
	Rule      string          `json:"rule"`
	Category  string          `json:"category"`
	Specialty string          `json:"specialty,omitempty"`
	Direction string          `json:"direction,omitempty"`
	From      string          `json:"from"`
	To        string          `json:"to"`
	Points    []*int          `json:"points,omitempty"`
	Limits    *stats.Limits   `json:"limits,omitempty"`
	Table     *stats.Table    `json:"table,omitempty"`
	Measures  *stats.Measures `json:"measures,omitempty"`
	// PValue and Tested: the signal passed the false discovery rate
	// among Tested series or cells. With the limits, a p-value would give
	// away the run's total, so it is withheld with any point or cell.
	PValue     *float64  `json:"pValue,omitempty"`
	Tested     int       `json:"tested,omitempty"`
	Withheld   bool      `json:"withheld,omitempty"`
	DetectedAt time.Time `json:"detectedAt"`
}

func trendSignalViewOf(s detect.Signal, k int) trendSignalView {
	v := trendSignalView{
		Key: s.Key, Rule: string(s.Rule), Category: string(s.Series.Category), Specialty: string(s.Series.Specialty),
		Direction: string(s.Dir), From: s.From.Format(time.DateOnly), To: s.To.Format(time.DateOnly),
		Limits: s.Limits, Tested: s.Tested, DetectedAt: s.DetectedAt,
	}
	pointWithheld := false
	for _, p := range s.Points {
		if p > 0 && p < k {
			v.Points = append(v.Points, nil)
			pointWithheld = true
			continue
		}
		v.Points = append(v.Points, &p)
	}
	if t := s.Table; t != nil {
		if slices.ContainsFunc([]int{t.A, t.B, t.C, t.D}, func(n int) bool { return n > 0 && n < k }) {
			v.Withheld = true
		} else {
			v.Table, v.Measures = s.Table, s.Measures
		}
	}
	if !pointWithheld && !v.Withheld {
		p := s.PValue
		v.PValue = &p
	}
	return v
}

// getTrendSignals answers GET /api/v1/trends/signals: the policy inbox of
// detected trend signals, newest first.
func (s *Server) getTrendSignals(w http.ResponseWriter, r *http.Request) {
	if prob := knownParams(r.URL.Query()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if s.deps.TrendSignals == nil {
		writeProblem(w, r, newProblem(http.StatusNotFound, "not-found", "Not found", "trend signal detection is not enabled"))
		return
	}
	if prob := s.record(r, actionTrendsRead, ""); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	sigs, err := s.deps.TrendSignals.Signals(r.Context())
	if err != nil {
		s.deps.Logger.Error("trend signals", zap.Error(err), zap.String("correlationId", correlationID(r.Context())))
		writeProblem(w, r, newProblem(http.StatusServiceUnavailable, "unavailable", "Trends unavailable", "the trend signals could not be read; try again"))
		return
	}
	k := s.deps.TrendsK
	if k < 2 {
		k = trends.DefaultK
	}
	out := make([]trendSignalView, 0, len(sigs))
	for _, sig := range sigs {
		out = append(out, trendSignalViewOf(sig, k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"k": k, "signals": out})
}
