package stats_test

import (
	"math"
	"slices"
	"testing"

	"github.com/safesignal/safesignal/projections/trends/stats"
)

func TestBinomialUpperTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n, k int
		p    float64
		want float64
	}{
		// P(X ≥ 3), n = 4, p = ½: (4 + 1)/16.
		{"small by hand", 4, 3, 0.5, 5.0 / 16},
		// P(X ≥ 1) = 1 − 0.9^10 = 0.6513215599.
		{"one or more", 10, 1, 0.1, 0.6513215599},
		// P(X ≥ 10) = 0.1^10.
		{"all", 10, 10, 0.1, 1e-10},
		{"k zero", 10, 0, 0.3, 1},
		{"k above n", 10, 11, 0.3, 0},
		{"p zero", 10, 1, 0, 0},
		{"p one", 10, 10, 1, 1},
		// Binomial(200, 0.35): mean 70, sd 6.745; P(X ≥ 91) summed
		// exactly in rational arithmetic = 0.00139162889653.
		{"large", 200, 91, 0.35, 0.00139162889653},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := stats.BinomialUpperTail(tt.n, tt.k, tt.p)
			if math.Abs(got-tt.want) > 1e-6*math.Max(1, tt.want) && math.Abs(got-tt.want)/tt.want > 1e-3 {
				t.Fatalf("P(X ≥ %d | %d, %g) = %.10g, want %.10g", tt.k, tt.n, tt.p, got, tt.want)
			}
		})
	}
}

// The binomial tail must agree with a plain summation of the
// probabilities wherever both can be computed.
func TestBinomialUpperTailAgreesWithDirectSum(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 7, 30, 120} {
		for _, p := range []float64{0.05, 0.35, 0.5, 0.9} {
			for k := 0; k <= n; k++ {
				var direct float64
				for i := k; i <= n; i++ {
					direct += binom(n, i) * math.Pow(p, float64(i)) * math.Pow(1-p, float64(n-i))
				}
				if got := stats.BinomialUpperTail(n, k, p); math.Abs(got-direct) > 1e-9 {
					t.Fatalf("n=%d k=%d p=%g: %.12g, direct %.12g", n, k, p, got, direct)
				}
			}
		}
	}
}

func binom(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r *= float64(n-k+i) / float64(i)
	}
	return r
}

func TestRateRatioPValue(t *testing.T) {
	t.Parallel()
	// One week of 30 against 13 weeks of 130: X ~ Binomial(160, 1/14).
	got := stats.RateRatioPValue(30, 1, 130, 13)
	// Summed exactly in rational arithmetic: 1.0886070707344e-06.
	if math.Abs(got-1.0886070707344e-06) > 1e-12 {
		t.Fatalf("spike p = %g", got)
	}
	// A run at the baseline's own rate is not remarkable.
	if p := stats.RateRatioPValue(70, 7, 130, 13); p < 0.4 {
		t.Fatalf("a run at the baseline rate has p = %g", p)
	}
	for _, bad := range [][4]int{{0, 7, 130, 13}, {5, 0, 130, 13}, {5, 7, -1, 13}, {5, 7, 130, 0}} {
		if p := stats.RateRatioPValue(bad[0], bad[1], bad[2], bad[3]); p != 1 {
			t.Fatalf("%v: p = %g, want 1", bad, p)
		}
	}
}

func TestChiSquarePValue(t *testing.T) {
	t.Parallel()
	// χ²(1) critical values: 3.841459 at 0.05, 6.634897 at 0.01.
	for _, c := range []struct{ chi2, want float64 }{{3.841459, 0.05}, {6.634897, 0.01}, {0, 1}, {-2, 1}, {math.NaN(), 1}, {math.Inf(1), 0}} {
		if got := stats.ChiSquarePValue(c.chi2); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("p(%g) = %g, want %g", c.chi2, got, c.want)
		}
	}
}

func TestBenjaminiHochberg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    []float64
		m    int
		q    float64
		want []bool
	}{
		// Sorted: 0.001 ≤ 0.05·1/5 = 0.01; 0.008 ≤ 0.02; 0.039 > 0.03;
		// 0.041 ≤ 0.04 no; 0.042 ≤ 0.05 yes: everything up to the fifth.
		{"step up", []float64{0.042, 0.001, 0.039, 0.008, 0.041}, 5, 0.05, []bool{true, true, true, true, true}},
		// The same p-values among 100 hypotheses: only 0.001 ≤ 0.0005? no;
		// none.
		{"many tested", []float64{0.042, 0.001, 0.039, 0.008, 0.041}, 100, 0.05, []bool{false, false, false, false, false}},
		// 0.0001 ≤ 0.05/100: one.
		{"one strong", []float64{0.3, 0.0001, 0.02}, 100, 0.05, []bool{false, true, false}},
		{"q zero", []float64{0}, 1, 0, []bool{false}},
		{"empty", nil, 10, 0.05, []bool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := stats.BenjaminiHochberg(tt.p, tt.m, tt.q); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
