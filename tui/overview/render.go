package overview

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/human"
	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/tui/fit"
)

// lower holds the lower-eighth blocks: lower[n] fills n eighths of a cell from the bottom.
var lower = [9]string{" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"}

// sideBySideMin is the inner width from which the extension list goes beside the chart instead of below it.
const sideBySideMin = 96

// extPaneWidth is the width of the extension list beside the chart.
const extPaneWidth = 38

// View draws the dialog at the size given by SetSize.
func (m *Model) View() string {
	if m.width < 20 || m.height < 6 {
		return ""
	}
	st := &m.ctx.Styles
	iw, ih := m.width-4, m.height-2 // the dialog's border and padding
	lines := make([]string, 0, ih)
	title := st.Title.Render("Overview")
	if m.filters != "" {
		title += st.Muted.Render(" · " + safetext.Terminal(m.filters))
	}
	if m.computing {
		title += st.Muted.Render(" · counting…")
	}
	lines = append(lines, fit.Cut(title, iw))

	s := m.stats
	switch {
	case !m.counted:
		lines = append(lines, st.Muted.Render("Counting calls…"))
	case s.Calls == 0:
		lines = append(lines, "", st.Muted.Render(fit.Cut("No calls to chart: load a range or clear the filters.", iw)))
	default:
		lines = append(lines, fit.Cut(m.summary(), iw), "")
		body := ih - len(lines)
		if iw >= sideBySideMin {
			chart := m.chart(iw-extPaneWidth-2, body)
			ext := m.extList(extPaneWidth, body)
			for i := range body {
				lines = append(lines, fit.Pad(line(chart, i), iw-extPaneWidth-2)+"  "+line(ext, i))
			}
		} else {
			extRows := min(len(s.TopExt), max(2, body/3))
			chartH := body - extRows - 2
			if chartH < 5 {
				extRows = max(0, body-7)
				chartH = body - extRows - 2
			}
			lines = append(lines, m.chart(iw, chartH)...)
			if extRows > 0 {
				lines = append(lines, "")
				lines = append(lines, m.extList(iw, extRows+1)...)
			}
		}
	}
	for len(lines) < ih {
		lines = append(lines, "")
	}
	lines = lines[:ih]
	for i, l := range lines {
		lines[i] = fit.Pad(l, iw)
	}
	return st.Dialog.Width(m.width).Render(strings.Join(lines, "\n"))
}

func line(ls []string, i int) string {
	if i < len(ls) {
		return ls[i]
	}
	return ""
}

func (m *Model) summary() string {
	s := m.stats
	st := &m.ctx.Styles
	pct := 0
	if s.Calls > 0 {
		pct = (s.Answered*100 + s.Calls/2) / s.Calls
	}
	out := st.Bold.Render(human.Count(int64(s.Calls))+" calls") + st.Muted.Render(" · ") +
		st.Disposition(cdr.DispAnswered).Render(fmt.Sprintf("%s answered (%d%%)", human.Count(int64(s.Answered)), pct)) +
		st.Muted.Render(" · ") + st.Disposition(cdr.DispNoAnswer).Render(human.Count(int64(s.Missed))+" missed")
	if n := len(s.Buckets); n > 0 {
		first, last := s.Buckets[0].Start, s.Buckets[n-1].Start
		rng := first.Format("Jan 2 2006")
		if first.Year() == last.Year() && first.YearDay() != last.YearDay() {
			rng = first.Format("Jan 2") + " – " + last.Format("Jan 2 2006")
		} else if first.YearDay() != last.YearDay() {
			rng += " – " + last.Format("Jan 2 2006")
		}
		out += st.Muted.Render(" · " + rng)
	}
	if s.Undated > 0 {
		out += st.Muted.Render(fmt.Sprintf(" · %d without a start time", s.Undated))
	}
	return out
}

// chart draws the stacked bars, their axis labels and the legend in exactly height lines of width cells.
func (m *Model) chart(width, height int) []string {
	s := m.stats
	st := &m.ctx.Styles
	th := m.ctx.Theme
	plotH := height - 2 // x labels, legend
	if plotH < 1 || len(s.Buckets) == 0 {
		return nil
	}
	// Group buckets into columns when there are more of them than cells.
	maxLabel := 0
	margin := 0
	plotW := 0
	group := 1
	var cols []Bucket
	for range 2 { // the margin depends on the largest column, which depends on the grouping
		margin = len(strconv.Itoa(maxLabel)) + 1
		plotW = max(1, width-margin)
		group = (len(s.Buckets) + plotW - 1) / plotW
		cols = cols[:0]
		for i := 0; i < len(s.Buckets); i += group {
			c := Bucket{Start: s.Buckets[i].Start}
			for _, b := range s.Buckets[i:min(i+group, len(s.Buckets))] {
				c.Answered += b.Answered
				c.Missed += b.Missed
			}
			cols = append(cols, c)
			maxLabel = max(maxLabel, c.Total())
		}
	}
	slot := max(1, plotW/len(cols))
	barW := slot
	if slot >= 2 {
		barW = min(slot-1, 4) // a gap between bars once there is room for one, so days do not merge
	}

	ansStyle := st.Disposition(cdr.DispAnswered)
	missStyle := st.Disposition(cdr.DispNoAnswer)
	missChar := "█"
	if th.NoColor {
		missChar = "░" // without colour, texture tells missed from answered
	}
	var boundary lipgloss.Style
	if !th.NoColor {
		boundary = ansStyle.Background(th.NoAnswer)
	}

	total8 := plotH * 8
	out := make([]string, 0, height)
	for row := plotH - 1; row >= 0; row-- {
		var b strings.Builder
		label := ""
		switch row {
		case plotH - 1:
			label = strconv.Itoa(maxLabel)
		case 0:
			label = "0"
		}
		b.WriteString(st.Muted.Render(fmt.Sprintf("%*s ", margin-1, label)))
		var run runs
		for _, c := range cols {
			t8 := scale8(c.Total(), maxLabel, total8)
			a8 := scale8(c.Answered, maxLabel, total8)
			if c.Missed > 0 && t8 <= a8 {
				t8 = a8 + 1 // a missed call never vanishes behind the answered ones
			}
			lo, hi := row*8, row*8+8
			var cell string
			var style *lipgloss.Style
			switch {
			case a8 >= hi:
				cell, style = "█", &ansStyle
			case a8 > lo && t8 > a8 && !th.NoColor:
				cell, style = lower[a8-lo], &boundary
			case a8 > lo:
				cell, style = lower[a8-lo], &ansStyle
			case t8 >= hi:
				cell, style = missChar, &missStyle
			case t8 > lo:
				if th.NoColor {
					if t8-lo >= 4 {
						cell = missChar
					} else {
						cell = " "
					}
				} else {
					cell = lower[t8-lo]
				}
				style = &missStyle
			default:
				cell = " "
			}
			run.add(style, strings.Repeat(cell, barW))
			if slot > barW {
				run.add(nil, strings.Repeat(" ", slot-barW))
			}
		}
		b.WriteString(run.flush())
		out = append(out, b.String())
	}
	out = append(out, strings.Repeat(" ", margin)+st.Muted.Render(axisLabels(cols, slot, plotW, s.Hourly)))
	unit := "per day"
	if s.Hourly {
		unit = "per hour"
	}
	if group > 1 {
		if s.Hourly {
			unit = fmt.Sprintf("per %d hours", group)
		} else {
			unit = fmt.Sprintf("per %d days", group)
		}
	}
	legend := ansStyle.Render("█") + st.Muted.Render(" answered  ") + missStyle.Render(missChar) +
		st.Muted.Render(" missed  · "+unit)
	out = append(out, strings.Repeat(" ", margin)+legend)
	for i := range out {
		out[i] = fit.Cut(out[i], width)
	}
	return out
}

// scale8 maps v of max onto 0..total8 eighths, rounding, with any non-zero value at least one eighth.
func scale8(v, maxV, total8 int) int {
	if v <= 0 || maxV <= 0 {
		return 0
	}
	return max(1, (v*total8+maxV/2)/maxV)
}

// axisLabels places bucket labels under their bars left to right wherever they fit: the hour (06h), the day
// at midnight or for daily bars (Mar 28), with a space between labels.
func axisLabels(cols []Bucket, slot, width int, hourly bool) string {
	buf := []byte(strings.Repeat(" ", width))
	next := 0
	for i, c := range cols {
		x := i * slot
		var lbl string
		switch {
		case hourly && c.Start.Hour() == 0:
			lbl = c.Start.Format("Jan 2")
		case hourly && c.Start.Hour()%3 == 0:
			lbl = c.Start.Format("15h")
		case hourly:
			continue
		default:
			lbl = c.Start.Format("Jan 2")
		}
		if x < next || x+len(lbl) > width {
			continue
		}
		copy(buf[x:], lbl)
		next = x + len(lbl) + 1
	}
	return strings.TrimRight(string(buf), " ")
}

// extList draws the extensions with most calls as bars, answered part first, in at most height lines.
func (m *Model) extList(width, height int) []string {
	s := m.stats
	st := &m.ctx.Styles
	th := m.ctx.Theme
	if height < 1 || len(s.TopExt) == 0 {
		return nil
	}
	out := []string{st.Title.Render(fit.Cut("Top extensions", width))}
	n := min(len(s.TopExt), height-1)
	// Extensions and names are the PBX's text: cleaned before they are measured and shown.
	top := slices.Clone(s.TopExt[:n])
	for i := range top {
		top[i].Extension, top[i].Name = safetext.Terminal(top[i].Extension), safetext.Terminal(top[i].Name)
	}
	extW, nameW := 3, 0
	for _, e := range top {
		extW = max(extW, min(ansi.StringWidth(extLabel(e.Extension)), 8))
		nameW = max(nameW, min(ansi.StringWidth(e.Name), 14))
	}
	countW := len(human.Count(int64(top[0].Calls)))
	fixed := extW + 1 + countW + 1
	if nameW > 0 {
		fixed += nameW + 1
	}
	if width-fixed < 6 { // too narrow for names: bars matter more
		fixed -= nameW + 1
		nameW = 0
	}
	barW := max(1, width-fixed)
	missChar := "█"
	if th.NoColor {
		missChar = "░"
	}
	for _, e := range top {
		var b strings.Builder
		b.WriteString(fit.Line(extLabel(e.Extension), extW) + " ")
		if nameW > 0 {
			b.WriteString(st.Muted.Render(fit.Line(e.Name, nameW)) + " ")
		}
		full := max(1, (e.Calls*barW+top[0].Calls/2)/top[0].Calls)
		ans := (e.Answered*full + e.Calls/2) / max(1, e.Calls)
		if e.Answered > 0 && ans == 0 {
			ans = 1
		}
		if e.Answered < e.Calls && ans == full && full > 1 {
			ans = full - 1
		}
		b.WriteString(st.Disposition(cdr.DispAnswered).Render(strings.Repeat("█", ans)))
		b.WriteString(st.Disposition(cdr.DispNoAnswer).Render(strings.Repeat(missChar, full-ans)))
		b.WriteString(strings.Repeat(" ", barW-full+1))
		b.WriteString(fmt.Sprintf("%*s", countW, human.Count(int64(e.Calls))))
		out = append(out, fit.Cut(b.String(), width))
	}
	return out
}

func extLabel(ext string) string {
	if ext == "" {
		return "(none)"
	}
	return ext
}

// runs merges adjacent cells of one style into one Render call: a chart row is dozens of cells but a few runs.
type runs struct {
	b     strings.Builder
	style *lipgloss.Style
	hasBg bool
	text  strings.Builder
}

func (r *runs) add(style *lipgloss.Style, s string) {
	if style == nil && r.style != nil && !r.hasBg {
		// Blank cells show nothing of a foreground-only style, so they join the run instead of splitting it.
		r.text.WriteString(s)
		return
	}
	if style != r.style {
		if style != nil {
			_, isNo := style.GetBackground().(lipgloss.NoColor)
			r.hasBg = !isNo
		}
		r.emit()
		r.style = style
	}
	r.text.WriteString(s)
}

func (r *runs) emit() {
	if r.text.Len() == 0 {
		return
	}
	if r.style == nil {
		r.b.WriteString(r.text.String())
	} else {
		r.b.WriteString(r.style.Render(r.text.String()))
	}
	r.text.Reset()
}

func (r *runs) flush() string {
	r.emit()
	return r.b.String()
}
