package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// row is one line of the performance table.
type row struct {
	Name     string
	Ours     string
	Baseline string
	Ratio    string
	Target   string
	Met      string
	Notes    string
}

// notMeasured is a row another issue will fill in.
func notMeasured(name, issue string) row {
	m := "not measured yet (" + issue + ")"
	return row{Name: name, Ours: m, Baseline: "-", Ratio: "-", Target: "-", Met: "-"}
}

// metWord renders a target check.
func metWord(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// ratioText renders ours/base, or "-" when the baseline is zero.
func ratioText(ours, base float64) string {
	if base == 0 || math.IsNaN(ours) || math.IsNaN(base) {
		return "-"
	}
	return fmt.Sprintf("%.2f×", ours/base)
}

// writeTable writes rows as a Markdown table.
func writeTable(w io.Writer, rows []row) error {
	header := []string{"row", "ours", "raw baseline (same run)", "ratio", "target", "met"}
	lines := [][]string{header}
	for _, r := range rows {
		lines = append(lines, []string{r.Name, r.Ours, r.Baseline, r.Ratio, r.Target, r.Met})
	}
	var b strings.Builder
	for i, l := range lines {
		b.WriteString("| " + strings.Join(l, " | ") + " |\n")
		if i == 0 {
			b.WriteString("|" + strings.Repeat("---|", len(l)) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// percentile returns the p-th percentile (0..100) of ds by nearest rank.
// It sorts ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	rank := int(math.Ceil(p/100*float64(len(ds)))) - 1
	rank = max(0, min(rank, len(ds)-1))
	return ds[rank]
}

// ms renders a duration in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// mib renders bytes in MiB.
func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }
