package httpapi

import (
	"testing"

	"github.com/safesignal/safesignal/projections/trends/detect"
	"github.com/safesignal/safesignal/projections/trends/stats"
)

func TestTrendSignalViewWithholdsSmallCounts(t *testing.T) {
	t.Parallel()
	m := stats.Disproportionality(stats.Table{A: 3, B: 7, C: 10, D: 90})
	v := trendSignalViewOf(detect.Signal{Rule: detect.RuleDisproportionality, Table: &stats.Table{A: 3, B: 7, C: 10, D: 90}, Measures: &m}, 5)
	if !v.Withheld || v.Table != nil || v.Measures != nil || v.PValue != nil {
		t.Fatalf("a table with a cell of 3 is shown: %+v", v)
	}
	v = trendSignalViewOf(detect.Signal{Rule: detect.RuleDisproportionality, Table: &stats.Table{A: 20, B: 80, C: 100, D: 1800}, Measures: &m, PValue: 0.001, Tested: 40}, 5)
	if v.Withheld || v.Table == nil || v.PValue == nil || *v.PValue != 0.001 || v.Tested != 40 {
		t.Fatalf("a table of large cells is withheld: %+v", v)
	}
	// With the limits (the baseline's total) a p-value gives the run's
	// total away: withheld with any point.
	v = trendSignalViewOf(detect.Signal{Rule: stats.RuleTrend, Points: []int{0, 2, 4, 6, 8}, PValue: 0.001}, 5)
	if v.Points[0] == nil || *v.Points[0] != 0 || v.Points[1] != nil || v.Points[2] != nil || *v.Points[3] != 6 || *v.Points[4] != 8 || v.PValue != nil {
		t.Fatalf("points %v, p-value %v", v.Points, v.PValue)
	}
	v = trendSignalViewOf(detect.Signal{Rule: stats.RuleTrend, Points: []int{5, 6, 7, 8, 9}, PValue: 0.001}, 5)
	if v.PValue == nil || *v.PValue != 0.001 {
		t.Fatalf("p-value of a run without small counts: %v", v.PValue)
	}
}
