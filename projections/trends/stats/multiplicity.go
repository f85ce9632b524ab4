package stats

import (
	"math"
	"slices"
)

// Many series are checked every week (every category, and every category
// within every specialty), so rules that each alarm on a small share of
// ordinary weeks alarm somewhere almost every week. The functions here
// give each alarm a p-value and keep the expected share of false alarms
// among those raised at a chosen rate (Benjamini and Hochberg, 1995).

// RateRatioPValue is the one-sided p-value that a run of counts (summed
// over runWeeks weeks) comes from a higher rate than its baseline (summed
// over baseWeeks weeks): given their total n, the run's count is
// Binomial(n, runWeeks/(runWeeks+baseWeeks)) when both rates are equal,
// and the p-value is P(X ≥ run). This is the exact conditional test for
// two Poisson counts; unlike a test against the baseline mean it counts
// the baseline's own noise. Out-of-range inputs give 1.
func RateRatioPValue(run, runWeeks, base, baseWeeks int) float64 {
	if run <= 0 || base < 0 || runWeeks <= 0 || baseWeeks <= 0 {
		return 1
	}
	return BinomialUpperTail(run+base, run, float64(runWeeks)/float64(runWeeks+baseWeeks))
}

// BinomialUpperTail is P(X ≥ k) for X ~ Binomial(n, p), summed in log
// space from k up to n (exact; n of some hundred thousand is fast enough
// for weekly checks).
func BinomialUpperTail(n, k int, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n || p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	lgN, _ := math.Lgamma(float64(n + 1))
	lp, lq := math.Log(p), math.Log1p(-p)
	logTerm := func(i int) float64 {
		a, _ := math.Lgamma(float64(i + 1))
		b, _ := math.Lgamma(float64(n - i + 1))
		return lgN - a - b + float64(i)*lp + float64(n-i)*lq
	}
	// Sum exp(t_i) for i = k..n around the largest term.
	peak := math.Inf(-1)
	for i := k; i <= n; i++ {
		peak = math.Max(peak, logTerm(i))
		if float64(i) > float64(n)*p+1 && logTerm(i) < peak-50 {
			break // terms only fall from here; the rest is negligible
		}
	}
	var sum float64
	for i := k; i <= n; i++ {
		t := logTerm(i) - peak
		if t < -50 && float64(i) > float64(n)*p {
			break
		}
		sum += math.Exp(t)
	}
	return math.Min(1, math.Exp(peak)*sum)
}

// ChiSquarePValue is the upper-tail probability of a chi-square statistic
// with one degree of freedom: erfc(√(χ²/2)). A negative or undefined
// statistic gives 1.
func ChiSquarePValue(chi2 float64) float64 {
	if !(chi2 > 0) || math.IsInf(chi2, 0) {
		if math.IsInf(chi2, 1) {
			return 0
		}
		return 1
	}
	return math.Erfc(math.Sqrt(chi2 / 2))
}

// BenjaminiHochberg returns, of p-values from m hypotheses tested
// together, which are discoveries when the expected share of false ones
// among them is kept at q: with the p-values sorted, p(1) ≤ … ≤ p(m), the
// largest i with p(i) ≤ q·i/m, and every p-value up to p(i). m may exceed
// len(p): hypotheses tested but not listed count as p = 1. A q ≤ 0 keeps
// none.
func BenjaminiHochberg(p []float64, m int, q float64) []bool {
	out := make([]bool, len(p))
	m = max(m, len(p))
	if q <= 0 || m == 0 {
		return out
	}
	sorted := slices.Clone(p)
	slices.Sort(sorted)
	threshold := -1.0
	for i, v := range sorted {
		if v <= q*float64(i+1)/float64(m) {
			threshold = v
		}
	}
	for i, v := range p {
		out[i] = v <= threshold
	}
	return out
}
