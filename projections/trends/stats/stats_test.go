package stats_test

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/safesignal/safesignal/projections/trends/stats"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestCLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		baseline []float64
		want     stats.Limits
		ok       bool
	}{
		// c̄ = 64/4 = 16, √16 = 4: UCL = 16 + 3·4 = 28, LCL = 16 − 12 = 4.
		{"exact square", []float64{16, 16, 15, 17}, stats.Limits{Centre: 16, Upper: 28, Lower: 4}, true},
		// c̄ = 25/5 = 5, √5 = 2.236067977: UCL = 5 + 6.708203932 = 11.708203932;
		// 5 − 6.708… < 0, so LCL = 0.
		{"lower limit clamped", []float64{4, 6, 5, 5, 5}, stats.Limits{Centre: 5, Upper: 11.708203932, Lower: 0}, true},
		// c̄ = 0: all limits 0.
		{"all zero", []float64{0, 0, 0}, stats.Limits{}, true},
		{"empty", nil, stats.Limits{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := stats.CLimits(tt.baseline)
			if ok != tt.ok || !near(got.Centre, tt.want.Centre) || !near(got.Upper, tt.want.Upper) || !near(got.Lower, tt.want.Lower) {
				t.Fatalf("CLimits(%v) = %+v %v, want %+v %v", tt.baseline, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestULimits(t *testing.T) {
	t.Parallel()
	// ū = (30 + 50) / (1000 + 1000) = 0.04.
	ubar, ok := stats.URate([]float64{30, 50}, []float64{1000, 1000})
	if !ok || !near(ubar, 0.04) {
		t.Fatalf("URate = %v %v, want 0.04", ubar, ok)
	}
	// n = 400: √(0.04/400) = √0.0001 = 0.01; UCL = 0.04 + 0.03 = 0.07,
	// LCL = 0.04 − 0.03 = 0.01.
	l, ok := stats.ULimits(ubar, 400)
	if !ok || !near(l.Upper, 0.07) || !near(l.Lower, 0.01) || !near(l.Centre, 0.04) {
		t.Fatalf("ULimits = %+v %v", l, ok)
	}
	// n = 25: √(0.04/25) = 0.04; LCL = 0.04 − 0.12 < 0 → 0; UCL = 0.16.
	l, ok = stats.ULimits(ubar, 25)
	if !ok || !near(l.Upper, 0.16) || l.Lower != 0 {
		t.Fatalf("ULimits(25) = %+v %v", l, ok)
	}
	if _, ok := stats.URate([]float64{3}, []float64{0}); ok {
		t.Fatal("URate with no exposure is defined")
	}
	if _, ok := stats.ULimits(0.04, 0); ok {
		t.Fatal("ULimits with n = 0 is defined")
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	l := stats.Limits{Centre: 16, Upper: 28, Lower: 4}
	tests := []struct {
		name   string
		points []float64
		want   []stats.Violation
	}{
		{"in control", []float64{16, 15, 17, 16, 14, 18, 16}, nil},
		// 29 > 28 (UCL) and 3 < 4 (LCL); 28 itself is on the limit, not out.
		{"outside", []float64{16, 29, 3, 28}, []stats.Violation{
			{Rule: stats.RuleOutside, Direction: stats.Up, Start: 1, End: 1},
			{Rule: stats.RuleOutside, Direction: stats.Down, Start: 2, End: 2},
		}},
		// Seven points above 16: the seventh (index 6) completes the run.
		{"shift up", []float64{17, 18, 17, 19, 17, 18, 17}, []stats.Violation{
			{Rule: stats.RuleShift, Direction: stats.Up, Start: 0, End: 6},
		}},
		// Six below, one on the centre line, one below: no run of seven.
		{"shift broken by a point on the line", []float64{15, 14, 15, 14, 15, 14, 16, 15}, nil},
		// 10 < 11 < 12 < 13 < 14: five points, four rising steps. They
		// are also five points below 16, short of seven.
		{"trend up", []float64{10, 11, 12, 13, 14}, []stats.Violation{
			{Rule: stats.RuleTrend, Direction: stats.Up, Start: 0, End: 4},
		}},
		{"trend down", []float64{20, 19, 18, 17, 16.5}, []stats.Violation{
			{Rule: stats.RuleTrend, Direction: stats.Down, Start: 0, End: 4},
		}},
		// Four points falling: one short.
		{"four points are no trend", []float64{20, 19, 18, 17}, nil},
		// An equal neighbour breaks a trend.
		{"tie breaks a trend", []float64{10, 11, 11, 12, 13}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := stats.Check(tt.points, l); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Check(%v) = %+v, want %+v", tt.points, got, tt.want)
			}
		})
	}
}

func TestDisproportionality(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		table  stats.Table
		want   stats.Measures
		signal bool
	}{
		{
			// a=20 b=80 c=100 d=1800, N = 2000.
			// PRR = (20/100)/(100/1900) = 0.2/0.052631579 = 3.8.
			// ad − bc = 36000 − 8000 = 28000; minus N/2 = 27000; squared
			// 729,000,000; ×N = 1.458e12. (a+b)(c+d)(a+c)(b+d) =
			// 100·1900·120·1880 = 4.2864e10. χ² = 1.458e12/4.2864e10 = 34.014557671.
			// ROR = 36000/8000 = 4.5; SE = √(1/20+1/80+1/100+1/1800) =
			// √0.073055556 = 0.270287912; CI = 4.5·e^(∓1.96·0.270287912)
			// = 2.649346719 … 7.643393691.
			name:  "signal",
			table: stats.Table{A: 20, B: 80, C: 100, D: 1800},
			want: stats.Measures{N: 20, PRR: 3.8, PRRDefined: true, ChiSquare: 34.014557671, ChiSquareDefined: true,
				ROR: 4.5, RORLower: 2.649346719, RORUpper: 7.643393691, RORDefined: true},
			signal: true,
		},
		{
			// a=3 b=7 c=10 d=90, N = 110. PRR = (3/10)/(10/100) = 3.
			// ad − bc = 270 − 70 = 200; minus 55 = 145; 145² = 21025; ×110 =
			// 2,312,750. Denominator 10·100·13·97 = 1,261,000. χ² = 1.834060270
			// < 4: no signal despite PRR 3. ROR = 270/70 = 3.857142857, SE =
			// √(1/3+1/7+1/10+1/90) = 0.766356045, CI 0.858875648 … 17.322124627.
			name:  "high PRR, small chi-square",
			table: stats.Table{A: 3, B: 7, C: 10, D: 90},
			want: stats.Measures{N: 3, PRR: 3, PRRDefined: true, ChiSquare: 1.834060270, ChiSquareDefined: true,
				ROR: 3.857142857, RORLower: 0.858875648, RORUpper: 17.322124627, RORDefined: true},
		},
		{
			// c = 0: PRR's denominator is 0 and ROR's b·c is 0: undefined.
			// χ²: N = 10, ad − bc = 2·5 − 0 = 10, minus 5 = 5, 25·10 = 250;
			// denominator (2+3)(0+5)(2+0)(3+5) = 5·5·2·8 = 400; χ² = 0.625.
			name:  "c zero",
			table: stats.Table{A: 2, B: 3, C: 0, D: 5},
			want:  stats.Measures{N: 2, ChiSquare: 0.625, ChiSquareDefined: true},
		},
		{
			// a = 0: PRR = 0/(0+5) / (5/10) = 0, defined; ROR undefined.
			// χ²: N = 15, |0·5 − 5·5| = 25, minus 7.5 = 17.5, squared
			// 306.25, ×15 = 4593.75; denominator 5·10·5·10 = 2500; 1.8375.
			name:  "a zero",
			table: stats.Table{A: 0, B: 5, C: 5, D: 5},
			want:  stats.Measures{N: 0, PRR: 0, PRRDefined: true, ChiSquare: 1.8375, ChiSquareDefined: true},
		},
		{name: "all zero", table: stats.Table{}, want: stats.Measures{}},
		{
			// |ad − bc| = |1·1 − 1·1| = 0 < N/2: Yates's correction is
			// clamped at 0, not squared into a positive number.
			name:  "Yates clamp",
			table: stats.Table{A: 1, B: 1, C: 1, D: 1},
			want: stats.Measures{N: 1, PRR: 1, PRRDefined: true, ChiSquare: 0, ChiSquareDefined: true,
				ROR: 1, RORLower: math.Exp(-1.96 * 2), RORUpper: math.Exp(1.96 * 2), RORDefined: true},
		},
		{name: "negative counts are zero", table: stats.Table{A: -1, B: -1, C: -1, D: -1}, want: stats.Measures{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := stats.Disproportionality(tt.table)
			if got.N != tt.want.N || got.PRRDefined != tt.want.PRRDefined || got.ChiSquareDefined != tt.want.ChiSquareDefined || got.RORDefined != tt.want.RORDefined ||
				!near(got.PRR, tt.want.PRR) || !near(got.ChiSquare, tt.want.ChiSquare) ||
				!near(got.ROR, tt.want.ROR) || !near(got.RORLower, tt.want.RORLower) || !near(got.RORUpper, tt.want.RORUpper) {
				t.Fatalf("Disproportionality(%+v) =\n %+v, want\n %+v", tt.table, got, tt.want)
			}
			for _, v := range []float64{got.PRR, got.ChiSquare, got.ROR, got.RORLower, got.RORUpper} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("not finite: %+v", got)
				}
			}
			if _, err := json.Marshal(got); err != nil {
				t.Fatalf("measures do not encode: %v", err)
			}
			if s := stats.Evans().Signal(got); s != tt.signal {
				t.Fatalf("signal = %v, want %v", s, tt.signal)
			}
		})
	}
}

func TestCriteria(t *testing.T) {
	t.Parallel()
	m := stats.Measures{N: 3, PRR: 2, PRRDefined: true, ChiSquare: 4, ChiSquareDefined: true}
	if !stats.Evans().Signal(m) {
		t.Fatal("thresholds are inclusive: PRR 2, χ² 4, N 3 is a signal")
	}
	m.N = 2
	if stats.Evans().Signal(m) {
		t.Fatal("N 2 is a signal")
	}
	if !(stats.Criteria{MinPRR: 2, MinChiSquare: 4, MinN: 2}).Signal(m) {
		t.Fatal("configured MinN 2 is not honoured")
	}
}
