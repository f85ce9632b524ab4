// Package stats holds the statistics of the national trend views: Shewhart
// control charts for counts (c-chart) and rates (u-chart) with Western
// Electric style run rules, and disproportionality measures (PRR, ROR,
// Yates-corrected chi-square) of a 2×2 table. Standard library only; no
// function returns NaN or an infinity.
package stats

import "math"

// Limits are the centre line and control limits of a chart.
type Limits struct {
	Centre float64 `json:"centre"`
	Upper  float64 `json:"upper"`
	Lower  float64 `json:"lower"`
}

// CLimits returns the c-chart limits of a baseline of counts: c̄ is their
// mean, UCL = c̄ + 3√c̄ and LCL = max(0, c̄ − 3√c̄). An empty baseline
// gives zero limits and false.
func CLimits(baseline []float64) (Limits, bool) {
	if len(baseline) == 0 {
		return Limits{}, false
	}
	var sum float64
	for _, c := range baseline {
		sum += c
	}
	mean := sum / float64(len(baseline))
	sd := math.Sqrt(mean)
	return Limits{Centre: mean, Upper: mean + 3*sd, Lower: math.Max(0, mean-3*sd)}, true
}

// URate is the centre line of a u-chart: ū = Σc / Σn over the baseline,
// counts c per exposure n (for example signals per 1,000 admissions).
// It is false when the baseline has no exposure.
func URate(counts, exposures []float64) (float64, bool) {
	var c, n float64
	for i := range min(len(counts), len(exposures)) {
		c += counts[i]
		n += exposures[i]
	}
	if n <= 0 {
		return 0, false
	}
	return c / n, true
}

// ULimits returns the u-chart limits for one point of exposure n:
// ū ± 3√(ū/n), the lower limit at least 0. It is false when n ≤ 0.
func ULimits(ubar, n float64) (Limits, bool) {
	if n <= 0 || ubar < 0 {
		return Limits{}, false
	}
	sd := math.Sqrt(ubar / n)
	return Limits{Centre: ubar, Upper: ubar + 3*sd, Lower: math.Max(0, ubar-3*sd)}, true
}

// Rule names a run rule.
type Rule string

// Run rules (after the Western Electric rules).
const (
	// RuleOutside: one point above the upper or below the lower limit.
	RuleOutside Rule = "outside_limits"
	// RuleShift: ShiftRun consecutive points on the same side of the
	// centre line (a point on the line breaks the run).
	RuleShift Rule = "shift"
	// RuleTrend: TrendRun consecutive points each strictly higher (or each
	// strictly lower) than the one before: TrendRun points, TrendRun−1
	// steps. An equal neighbour breaks the run.
	RuleTrend Rule = "trend"
)

// Run lengths of the rules.
const (
	ShiftRun = 7
	TrendRun = 5
)

// Direction says which way a violation points.
type Direction string

// Directions.
const (
	Up   Direction = "up"
	Down Direction = "down"
)

// Violation is one rule broken; End is the index of the point that
// completes it, Start the first point of the run (End for RuleOutside).
type Violation struct {
	Rule      Rule      `json:"rule"`
	Direction Direction `json:"direction"`
	Start     int       `json:"start"`
	End       int       `json:"end"`
}

// Check applies the run rules to points against fixed limits and returns
// every violation, ordered by End. A run longer than the rule's length
// reports a violation at every point after it reached the length (so a
// caller that only looks at the newest point sees an ongoing run).
func Check(points []float64, l Limits) []Violation {
	var out []Violation
	above, below, up, down := 0, 0, 1, 1
	for i, p := range points {
		switch {
		case p > l.Upper:
			out = append(out, Violation{Rule: RuleOutside, Direction: Up, Start: i, End: i})
		case p < l.Lower:
			out = append(out, Violation{Rule: RuleOutside, Direction: Down, Start: i, End: i})
		}
		switch {
		case p > l.Centre:
			above, below = above+1, 0
		case p < l.Centre:
			above, below = 0, below+1
		default:
			above, below = 0, 0
		}
		if above >= ShiftRun {
			out = append(out, Violation{Rule: RuleShift, Direction: Up, Start: i - ShiftRun + 1, End: i})
		}
		if below >= ShiftRun {
			out = append(out, Violation{Rule: RuleShift, Direction: Down, Start: i - ShiftRun + 1, End: i})
		}
		if i > 0 {
			switch {
			case p > points[i-1]:
				up, down = up+1, 1
			case p < points[i-1]:
				up, down = 1, down+1
			default:
				up, down = 1, 1
			}
		}
		if up >= TrendRun {
			out = append(out, Violation{Rule: RuleTrend, Direction: Up, Start: i - TrendRun + 1, End: i})
		}
		if down >= TrendRun {
			out = append(out, Violation{Rule: RuleTrend, Direction: Down, Start: i - TrendRun + 1, End: i})
		}
	}
	return out
}

// Table is a 2×2 contingency table of report counts:
//
//	                      this category   other categories
//	this specialty              A                B
//	other specialties           C                D
type Table struct {
	A, B, C, D int
}

// Measures are the disproportionality measures of a table. A measure
// whose formula divides by zero (or takes the log of zero) is not
// defined: its value is 0 and its Defined flag false, never NaN or ±Inf.
type Measures struct {
	N int `json:"n"`
	// PRR = (a/(a+b)) / (c/(c+d)).
	PRR        float64 `json:"prr"`
	PRRDefined bool    `json:"prrDefined"`
	// ChiSquare is Pearson's χ² with one degree of freedom and Yates's
	// continuity correction: N·max(0, |ad−bc| − N/2)² / ((a+b)(c+d)(a+c)(b+d)),
	// N = a+b+c+d, as in the criteria of Evans et al. (2001).
	ChiSquare        float64 `json:"chiSquare"`
	ChiSquareDefined bool    `json:"chiSquareDefined"`
	// ROR = (a·d)/(b·c) with the 95% confidence interval
	// exp(ln ROR ± 1.96·√(1/a + 1/b + 1/c + 1/d)); no continuity
	// correction, so any zero cell leaves it undefined.
	ROR        float64 `json:"ror"`
	RORLower   float64 `json:"rorLower"`
	RORUpper   float64 `json:"rorUpper"`
	RORDefined bool    `json:"rorDefined"`
}

// Disproportionality computes the measures of a table. Negative counts
// are treated as zero.
func Disproportionality(t Table) Measures {
	a, b, c, d := float64(max(t.A, 0)), float64(max(t.B, 0)), float64(max(t.C, 0)), float64(max(t.D, 0))
	n := a + b + c + d
	m := Measures{N: max(t.A, 0)}
	if a+b > 0 && c > 0 && c+d > 0 {
		m.PRR = (a / (a + b)) / (c / (c + d))
		m.PRRDefined = true
	}
	if den := (a + b) * (c + d) * (a + c) * (b + d); den > 0 {
		diff := math.Max(0, math.Abs(a*d-b*c)-n/2)
		m.ChiSquare = n * diff * diff / den
		m.ChiSquareDefined = true
	}
	if a > 0 && b > 0 && c > 0 && d > 0 {
		ror := (a * d) / (b * c)
		se := math.Sqrt(1/a + 1/b + 1/c + 1/d)
		m.ROR = ror
		m.RORLower = math.Exp(math.Log(ror) - 1.96*se)
		m.RORUpper = math.Exp(math.Log(ror) + 1.96*se)
		m.RORDefined = true
	}
	return m
}

// Criteria are the thresholds of a disproportionality signal.
type Criteria struct {
	MinPRR       float64
	MinChiSquare float64
	MinN         int
}

// Evans is the default: PRR ≥ 2, χ² ≥ 4 and at least 3 reports (Evans,
// Waller and Davis, 2001).
func Evans() Criteria { return Criteria{MinPRR: 2, MinChiSquare: 4, MinN: 3} }

// Signal reports whether the measures meet the criteria. An undefined PRR
// or χ² is never a signal.
func (c Criteria) Signal(m Measures) bool {
	return m.PRRDefined && m.ChiSquareDefined && m.N >= c.MinN && m.PRR >= c.MinPRR && m.ChiSquare >= c.MinChiSquare
}
