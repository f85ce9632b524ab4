package trends

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DefaultK is the smallest count shown: counts 1..K−1 are suppressed.
const DefaultK = 5

// Cell is one group of a protected answer. A suppressed cell has Count 0
// and Suppressed set: its count is never given.
type Cell struct {
	Key        []string
	Count      int
	Suppressed bool
}

// Protected is an answer under disclosure control.
type Protected struct {
	Query Query
	K     int
	Cells []Cell
	// Total over every cell of the query; suppressed like a cell.
	Total           int
	TotalSuppressed bool
	// Omitted counts suppressed cells left out of Cells because their key
	// names an organisation: a suppressed cell still says the group is
	// not empty, which the answer must not say of one organisation.
	Omitted int
}

// RefusedError is a query refused because it, or what differs between it
// and a query one filter or one period wider, would single out a group of
// fewer than K signals. Params names the query parameters at fault.
type RefusedError struct {
	Params []string
	K      int
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the query would single out fewer than %d signals through %s; widen or drop that filter", e.K, strings.Join(e.Params, ", "))
}

// small reports whether n is a count that must not be shown.
func small(n, k int) bool { return n > 0 && n < k }

// neighbour is a query one step wider (or narrower) than the asked one,
// and the parameter that step changes.
type neighbour struct {
	param string
	q     Query
}

// neighbours lists the queries that differ from q by one filter or one
// period: without each filter, without each value of a filter with
// several, and as of one period earlier. What separates q from each is a
// group an attacker could isolate by differencing the two answers. Date
// ranges are checked by dateEdges.
func neighbours(q Query) []neighbour {
	var out []neighbour
	for _, d := range FilterDimensions() {
		vals := q.Filter[d]
		if len(vals) == 0 {
			continue
		}
		n := q.Clone()
		delete(n.Filter, d)
		out = append(out, neighbour{param: string(d), q: n})
		if len(vals) > 1 {
			for i := range vals {
				n := q.Clone()
				n.Filter[d] = slices.Delete(slices.Clone(vals), i, i+1)
				out = append(out, neighbour{param: string(d), q: n})
			}
		}
	}
	if q.AsOf != 0 {
		n := q.Clone()
		n.AsOf = PeriodStart(q.Period, q.AsOf) - 1
		out = append(out, neighbour{param: "asOf", q: n})
	}
	return out
}

// Coarsen widens a query's dates to whole periods (asOf to the end of its
// period), so that two queries can differ by whole periods only.
func Coarsen(q Query) Query {
	if q.AsOf != 0 {
		q.AsOf = PeriodEnd(q.Period, q.AsOf)
	}
	if q.From != 0 {
		q.From = PeriodStart(q.Period, q.From)
	}
	if q.To != 0 {
		q.To = PeriodEnd(q.Period, q.To)
	}
	return q
}

// Protect answers a query under disclosure control with threshold k
// (DefaultK when k < 2):
//
//  1. dates are widened to whole periods (Coarsen);
//  2. a query whose population is 1..k−1, or whose population differs
//     by 1..k−1 from a neighbour (one filter, one filter value or asOf one
//     period less), or from the same query with its date range widened by
//     any number of whole periods at either end or both, is refused with a
//     RefusedError naming the parameter;
//  3. a cell with a count of 1..k−1 is suppressed (primary), and so is a
//     cell whose count differs by 1..k−1 from the same cell of a
//     neighbour or of a widened date range (differencing);
//  4. complementary suppression: every row and column of the table (whose
//     margins other queries show) with exactly one suppressed cell gets
//     its smallest other cell suppressed too, until none is left alone;
//  5. suppressed cells naming an organisation are left out.
//
// docs/TRENDS.md gives the reasons and the limits.
func Protect(ctx context.Context, s Store, q Query, k int) (Protected, error) {
	if k < 2 {
		k = DefaultK
	}
	q = Coarsen(q)
	res, err := s.Query(ctx, q)
	if err != nil {
		return Protected{}, fmt.Errorf("trends query: %w", err)
	}
	filtered := q.From != 0 || q.To != 0 || q.AsOf != 0
	for _, v := range q.Filter {
		filtered = filtered || len(v) > 0
	}
	if filtered && small(res.Total, k) {
		return Protected{}, &RefusedError{Params: filterParams(q), K: k}
	}
	suppressed := map[string]bool{}
	for _, r := range res.Rows {
		if small(r.Count, k) {
			suppressed[keyID(r.Key)] = true
		}
	}
	var refused []string
	for _, n := range neighbours(q) {
		nres, err := s.Query(ctx, n.q)
		if err != nil {
			return Protected{}, fmt.Errorf("trends query (%s neighbour): %w", n.param, err)
		}
		if small(abs(nres.Total-res.Total), k) && !slices.Contains(refused, n.param) {
			refused = append(refused, n.param)
		}
		other := map[string]int{}
		for _, r := range nres.Rows {
			other[keyID(r.Key)] = r.Count
		}
		for _, r := range res.Rows {
			if small(abs(other[keyID(r.Key)]-r.Count), k) {
				suppressed[keyID(r.Key)] = true
			}
		}
	}
	edges, totalEdge, err := dateEdges(ctx, s, q, k)
	if err != nil {
		return Protected{}, err
	}
	if totalEdge {
		for _, p := range []string{"from", "to"} {
			if (p == "from" && q.From != 0 || p == "to" && q.To != 0) && !slices.Contains(refused, p) {
				refused = append(refused, p)
			}
		}
	}
	for id := range edges {
		suppressed[id] = true
	}
	if len(refused) > 0 {
		return Protected{}, &RefusedError{Params: refused, K: k}
	}
	complement(res.Rows, len(q.GroupBy), suppressed)

	p := Protected{Query: q, K: k, Total: res.Total}
	if small(res.Total, k) {
		p.Total, p.TotalSuppressed = 0, true
	}
	org := slices.Index(q.GroupBy, DimOrganisation)
	for _, r := range res.Rows {
		if !suppressed[keyID(r.Key)] {
			p.Cells = append(p.Cells, Cell{Key: r.Key, Count: r.Count})
			continue
		}
		if org >= 0 {
			p.Omitted++
			continue
		}
		p.Cells = append(p.Cells, Cell{Key: r.Key, Suppressed: true})
	}
	return p, nil
}

// dateEdges looks outside a bounded date range: for the total and for
// every cell (unless the query groups by period, where a cell is one
// period), it adds up the whole periods just before From and just after To,
// nearest first, and reports whether any widening — some periods before,
// some after, or both — adds 1..k−1 signals. Such a range is one an
// attacker could difference against a wider one. The returned set holds
// the key ids of the cells to suppress.
func dateEdges(ctx context.Context, s Store, q Query, k int) (map[string]bool, bool, error) {
	if q.From == 0 && q.To == 0 {
		return nil, false, nil
	}
	wide := q.Clone()
	wide.From, wide.To = 0, 0
	byPeriod := !slices.Contains(q.GroupBy, DimPeriod)
	if byPeriod {
		wide.GroupBy = append(wide.GroupBy, DimPeriod)
	}
	res, err := s.Query(ctx, wide)
	if err != nil {
		return nil, false, fmt.Errorf("trends query (dates widened): %w", err)
	}
	first, last := PeriodLabel(q.Period, q.From), PeriodLabel(q.Period, q.To)
	periodAt := slices.Index(wide.GroupBy, DimPeriod)
	type edges struct {
		before, after map[string]int // period label → count
	}
	cells := map[string]*edges{}
	total := &edges{before: map[string]int{}, after: map[string]int{}}
	for _, r := range res.Rows {
		label := r.Key[periodAt]
		var side func(e *edges) map[string]int
		switch {
		case q.From != 0 && label < first:
			side = func(e *edges) map[string]int { return e.before }
		case q.To != 0 && label > last:
			side = func(e *edges) map[string]int { return e.after }
		default:
			continue
		}
		side(total)[label] += r.Count
		if !byPeriod {
			continue
		}
		id := keyID(r.Key[:len(r.Key)-1])
		e := cells[id]
		if e == nil {
			e = &edges{before: map[string]int{}, after: map[string]int{}}
			cells[id] = e
		}
		side(e)[label] += r.Count
	}
	out := map[string]bool{}
	for id, e := range cells {
		if widenSmall(e.before, e.after, k) {
			out[id] = true
		}
	}
	return out, widenSmall(total.before, total.after, k), nil
}

// widenSmall reports whether some periods of before (taken from the
// latest back) plus some of after (from the earliest on), not none of
// both, add up to 1..k−1. Counts are never negative, so only running sums
// below k matter: at most k of each side.
func widenSmall(before, after map[string]int, k int) bool {
	sums := func(m map[string]int, latestFirst bool) []int {
		labels := slices.Sorted(maps.Keys(m))
		if latestFirst {
			slices.Reverse(labels)
		}
		out := []int{0}
		sum := 0
		for _, l := range labels {
			sum += m[l]
			if sum >= k {
				break
			}
			out = append(out, sum)
		}
		return out
	}
	for _, b := range sums(before, true) {
		for _, a := range sums(after, false) {
			if n := a + b; n > 0 && n < k {
				return true
			}
		}
	}
	return false
}

// complement suppresses, in every line of the table (the whole list for
// one dimension; each row and each column for two), the smallest shown
// cell when exactly one cell of the line is suppressed, until no line has
// a lone suppressed cell. Suppression only grows, so it ends.
func complement(rows []Row, dims int, suppressed map[string]bool) {
	var lines [][]Row
	switch dims {
	case 1:
		lines = [][]Row{rows}
	case 2:
		for axis := range 2 {
			byValue := map[string][]Row{}
			var order []string
			for _, r := range rows {
				if _, ok := byValue[r.Key[axis]]; !ok {
					order = append(order, r.Key[axis])
				}
				byValue[r.Key[axis]] = append(byValue[r.Key[axis]], r)
			}
			for _, v := range order {
				lines = append(lines, byValue[v])
			}
		}
	default:
		return
	}
	for changed := true; changed; {
		changed = false
		for _, line := range lines {
			lone := 0
			var pick *Row
			for i := range line {
				r := &line[i]
				if suppressed[keyID(r.Key)] {
					lone++
					continue
				}
				if pick == nil || r.Count < pick.Count {
					pick = r
				}
			}
			if lone == 1 && pick != nil {
				suppressed[keyID(pick.Key)] = true
				changed = true
			}
		}
	}
}

func filterParams(q Query) []string {
	var out []string
	for _, d := range FilterDimensions() {
		if len(q.Filter[d]) > 0 {
			out = append(out, string(d))
		}
	}
	if q.From != 0 {
		out = append(out, "from")
	}
	if q.To != 0 {
		out = append(out, "to")
	}
	if q.AsOf != 0 {
		out = append(out, "asOf")
	}
	return out
}

func keyID(key []string) string { return strings.Join(key, "\x00") }

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
