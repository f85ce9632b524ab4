package web

import (
	"fmt"
	"html/template"
	"strings"
)

// Charts are drawn on the server as SVG: no script, readable by screen
// readers through role="img" and a title, and the same numbers are in a
// table under each chart. Every text is escaped here.

func esc(s string) string { return template.HTMLEscapeString(s) }

// barChart draws one horizontal bar per cell; a suppressed cell has a
// hatched stub and the word for suppressed instead of a number.
func barChart(cells []trendCell, suppressed, title string) string {
	const rowH, labelW, width = 28, 200, 640
	max := 1
	for _, c := range cells {
		if !c.Suppressed && c.Count > max {
			max = c.Count
		}
	}
	h := rowH*len(cells) + 10
	if len(cells) == 0 {
		h = rowH
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="bars-title" xmlns="http://www.w3.org/2000/svg">`, width, h)
	fmt.Fprintf(&b, `<title id="bars-title">%s</title>`, esc(title))
	b.WriteString(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e5e7eb"/><line x1="0" y1="0" x2="0" y2="6" stroke="#6b7280" stroke-width="2"/></pattern></defs>`)
	barMax := width - labelW - 60
	for i, c := range cells {
		y := i*rowH + 5
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" class="chart-label">%s</text>`, labelW-8, y+17, esc(c.Label))
		if c.Suppressed {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="40" height="20" fill="url(#hatch)"/>`, labelW, y+3)
			fmt.Fprintf(&b, `<text x="%d" y="%d" class="chart-value chart-suppressed">%s</text>`, labelW+46, y+17, esc(suppressed))
			continue
		}
		w := c.Count * barMax / max
		if w < 2 && c.Count > 0 {
			w = 2
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="20" class="chart-bar"/>`, labelW, y+3, w)
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="chart-value">%d</text>`, labelW+w+6, y+17, c.Count)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// lineChart draws counts per period; suppressed periods break the line
// and are marked with an open circle and the word for suppressed below the
// axis.
func lineChart(cells []trendCell, suppressed, title string) string {
	const width, height, left, bottom, top = 640, 260, 44, 60, 16
	max := 1
	for _, c := range cells {
		if !c.Suppressed && c.Count > max {
			max = c.Count
		}
	}
	plotW, plotH := width-left-20, height-bottom-top
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="line-title" xmlns="http://www.w3.org/2000/svg">`, width, height)
	fmt.Fprintf(&b, `<title id="line-title">%s</title>`, esc(title))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="chart-axis"/>`, left, top+plotH, left+plotW, top+plotH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="chart-axis"/>`, left, top, left, top+plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" class="chart-label">%d</text>`, left-6, top+10, max)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" class="chart-label">0</text>`, left-6, top+plotH)
	n := len(cells)
	x := func(i int) int {
		if n <= 1 {
			return left + plotW/2
		}
		return left + 10 + i*(plotW-20)/(n-1)
	}
	y := func(v int) int { return top + plotH - v*plotH/max }
	var path []string
	flush := func() {
		if len(path) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s" class="chart-line"/>`, strings.Join(path, " "))
		}
		path = nil
	}
	for i, c := range cells {
		if c.Suppressed {
			flush()
			continue
		}
		path = append(path, fmt.Sprintf("%d,%d", x(i), y(c.Count)))
	}
	flush()
	for i, c := range cells {
		if c.Suppressed {
			fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="5" class="chart-point-suppressed"><title>%s: %s</title></circle>`, x(i), top+plotH, esc(c.Label), esc(suppressed))
		} else {
			fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="4" class="chart-point"><title>%s: %d</title></circle>`, x(i), y(c.Count), esc(c.Label), c.Count)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" transform="rotate(-40 %d %d)" class="chart-label">%s</text>`, x(i), top+plotH+18, x(i), top+plotH+18, esc(c.Label))
	}
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="chart-label">—</text>`, left+10, top+plotH/2)
	}
	b.WriteString(`</svg>`)
	return b.String()
}
