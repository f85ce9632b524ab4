package main

import (
	"strings"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(ds, 50); got != 50*time.Millisecond {
		t.Fatalf("p50 = %v", got)
	}
	if got := percentile(ds, 99); got != 99*time.Millisecond {
		t.Fatalf("p99 = %v", got)
	}
	if got := percentile(nil, 99); got != 0 {
		t.Fatalf("empty p99 = %v", got)
	}
}

func TestTableHasOneLinePerRowAndNoInventedFigures(t *testing.T) {
	var b strings.Builder
	rows := []row{{Name: "a", Ours: "1", Baseline: "2", Ratio: ratioText(1, 2), Target: "t", Met: metWord(false)}, notMeasured("pg", "issue #4")}
	if err := writeTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	if !strings.Contains(lines[2], "0.50×") || !strings.Contains(lines[2], "NOT met") {
		t.Fatalf("row: %s", lines[2])
	}
	if !strings.Contains(lines[3], "not measured yet (issue #4)") {
		t.Fatalf("row: %s", lines[3])
	}
	if ratioText(1, 0) != "-" {
		t.Fatal("ratio with zero baseline")
	}
}
