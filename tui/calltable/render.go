package calltable

import (
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/fit"
	"github.com/callscope/callscope/tui/theme"
)

// cell is one column as laid out for the current width.
type cell struct {
	col   Column
	w     int
	right bool
}

// fit makes a cell's text exactly its width, right-aligned for numbers.
func (c cell) fit(s string) string {
	if c.right {
		return fit.LineRight(s, c.w)
	}
	return fit.Line(s, c.w)
}

const gutter = 2 // the mark column: "● "

var preferred = [numColumns]int{
	ColStart: 19, ColType: 5, ColExtension: 22, ColOther: 16, ColDisposition: 9, ColDuration: 7, ColBillable: 7,
	ColRecording: 3,
}

// computeLayout fits the columns to width: it shrinks the flexible columns first, then drops columns in order of
// least use (billable, recording mark, other party, type, duration), then shortens the start time, and gives
// spare width to the extension and other-party columns.
func computeLayout(width int) []cell {
	w := preferred
	total := func() int {
		t, n := gutter, 0
		for _, v := range w {
			if v > 0 {
				t += v
				n++
			}
		}
		return t + max(0, n-1)
	}
	shrink := func(c Column, to int) {
		if over := total() - width; over > 0 && w[c] > to {
			w[c] = max(to, w[c]-over)
		}
	}
	drop := func(c Column) {
		if total() > width {
			w[c] = 0
		}
	}
	steps := []func(){
		func() { shrink(ColExtension, 14) },
		func() { shrink(ColOther, 12) },
		func() { drop(ColBillable) },
		func() { shrink(ColType, 1) },
		func() {
			if total() > width {
				w[ColStart] = 14
			}
		},
		func() { shrink(ColExtension, 10) },
		func() { shrink(ColOther, 10) },
		func() { shrink(ColDisposition, 5) },
		func() { drop(ColRecording) },
		func() { drop(ColOther) },
		func() { drop(ColType) },
		func() { drop(ColDuration) },
		func() {
			if total() > width {
				w[ColStart] = 8
			}
		},
		func() { drop(ColDisposition) },
		func() { shrink(ColExtension, 4) },
	}
	for _, s := range steps {
		if total() <= width {
			break
		}
		s()
	}
	if extra := width - total(); extra > 0 {
		if w[ColOther] > 0 {
			o := extra * 2 / 5
			w[ColOther] += o
			extra -= o
		}
		w[ColExtension] += extra
	}
	out := make([]cell, 0, numColumns)
	for c := range numColumns {
		if w[c] > 0 {
			out = append(out, cell{col: c, w: w[c], right: c == ColDuration || c == ColBillable})
		}
	}
	return out
}

// columnAt is the column under x, for header clicks.
func (m *Model) columnAt(x int) (Column, bool) {
	pos := gutter
	for _, c := range m.layout {
		if x >= pos && x < pos+c.w+1 {
			return c.col, true
		}
		pos += c.w + 1
	}
	return 0, false
}

// sgr is a style split into the escape sequences around its text, so rows can be written with plain string
// building: lipgloss styles, without a Render call per cell.
type sgr struct{ open, close string }

func splitStyle(s lipgloss.Style) sgr {
	out := s.Render("x")
	i := strings.IndexByte(out, 'x')
	if i < 0 {
		return sgr{}
	}
	return sgr{out[:i], out[i+1:]}
}

type codes struct {
	theme                                  theme.Theme
	header, selected, mark, muted, normal  sgr
	inbound, outbound, internal, otherType sgr
	answered, noAnswer, busy, failed       sgr
}

func (m *Model) codes() *codes {
	if m.sgr != nil && m.sgr.theme == m.ctx.Theme {
		return m.sgr
	}
	st := &m.ctx.Styles
	m.sgr = &codes{
		theme:     m.ctx.Theme,
		header:    splitStyle(st.Header),
		selected:  splitStyle(st.Selected),
		mark:      splitStyle(st.Mark),
		muted:     splitStyle(st.Muted),
		normal:    splitStyle(st.Normal),
		inbound:   splitStyle(st.CallType(cdr.CallInbound)),
		outbound:  splitStyle(st.CallType(cdr.CallOutbound)),
		internal:  splitStyle(st.CallType(cdr.CallInternal)),
		otherType: splitStyle(st.CallType(cdr.CallOther)),
		answered:  splitStyle(st.Disposition(cdr.DispAnswered)),
		noAnswer:  splitStyle(st.Disposition(cdr.DispNoAnswer)),
		busy:      splitStyle(st.Disposition(cdr.DispBusy)),
		failed:    splitStyle(st.Disposition(cdr.DispFailed)),
	}
	return m.sgr
}

func (c *codes) callType(t cdr.CallType) sgr {
	switch t {
	case cdr.CallInbound:
		return c.inbound
	case cdr.CallOutbound:
		return c.outbound
	case cdr.CallInternal:
		return c.internal
	}
	return c.otherType
}

func (c *codes) disposition(d cdr.Disposition) sgr {
	switch d {
	case cdr.DispAnswered:
		return c.answered
	case cdr.DispNoAnswer:
		return c.noAnswer
	case cdr.DispBusy:
		return c.busy
	case cdr.DispFailed:
		return c.failed
	}
	return c.muted
}

// View renders the header and the visible rows only: its cost depends on the screen, not on the row count.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	cs := m.codes()
	var b strings.Builder
	b.Grow((m.width + 64) * m.height * 2)
	m.header(&b, cs)
	rows := m.visibleRows()
	lo, hi := m.window()
	end := min(m.offset+rows, hi)
	n := 0
	if len(m.view) == 0 && m.emptyText != "" {
		b.WriteByte('\n')
		b.WriteString(cs.muted.open)
		b.WriteString(fit.Line(" "+m.emptyText, m.width))
		b.WriteString(cs.muted.close)
		n++
	}
	for p := max(m.offset, lo); p < end; p++ {
		b.WriteByte('\n')
		m.row(&b, cs, p)
		n++
	}
	for ; n < rows; n++ {
		b.WriteByte('\n')
	}
	return b.String()
}

// shortTitle is the header of a column too narrow for its full title.
var shortTitle = [numColumns]string{ColStart: "Start", ColType: "T", ColExtension: "Ext", ColOther: "Other",
	ColDisposition: "Result", ColDuration: "Dur", ColBillable: "Bill", ColRecording: "R"}

func (m *Model) header(b *strings.Builder, cs *codes) {
	b.WriteString(cs.header.open)
	b.WriteString(strings.Repeat(" ", gutter))
	used := gutter
	for i, c := range m.layout {
		if i > 0 {
			b.WriteByte(' ')
			used++
		}
		title := c.col.String()
		if c.w < len(title) {
			title = shortTitle[c.col]
		}
		if c.col == m.srt.col {
			if m.srt.desc {
				title += "▼"
			} else {
				title += "▲"
			}
		}
		b.WriteString(c.fit(title))
		used += c.w
	}
	if used < m.width {
		b.WriteString(strings.Repeat(" ", m.width-used))
	}
	b.WriteString(cs.header.close)
}

func (m *Model) row(b *strings.Builder, cs *codes, p int) {
	ri := m.view[p]
	r := &m.rec
	m.st.load(ri, r)
	selected := p == m.cursor
	marked := m.marks.has(ri)
	if selected {
		b.WriteString(cs.selected.open)
		if marked {
			b.WriteString("● ")
		} else {
			b.WriteString("  ")
		}
	} else if marked {
		b.WriteString(cs.mark.open)
		b.WriteString("●")
		b.WriteString(cs.mark.close)
		b.WriteByte(' ')
	} else {
		b.WriteString("  ")
	}
	used := gutter
	var buf [32]byte
	for i, c := range m.layout {
		if i > 0 {
			b.WriteByte(' ')
			used++
		}
		var text string
		style := cs.normal
		switch c.col {
		case ColStart:
			text = startText(buf[:0], r, c.w)
		case ColType:
			text = typeText(r.CallType, c.w)
			style = cs.callType(r.CallType)
		case ColExtension:
			text = r.Extension
			name := r.FriendlyName
			if name == "" {
				name = m.names[r.Extension]
			}
			if name != "" {
				text += " " + name
			}
		case ColOther:
			text = r.OtherParty()
		case ColDisposition:
			text = string(r.Disposition)
			if text == "" {
				text = "?"
			}
			style = cs.disposition(r.Disposition)
		case ColDuration:
			text = common.Duration(r.DurationS)
		case ColBillable:
			text = common.Duration(r.BillableS)
		case ColRecording:
			if r.HasRecording() {
				text = " ♪"
			}
		}
		// The text is the PBX's (a caller ID can hold escape sequences): cleaned here, where only the visible
		// rows pass, and before fit measures it. The style codes around it are the table's own.
		text = safetext.Terminal(text)
		if selected {
			b.WriteString(c.fit(text))
		} else {
			b.WriteString(style.open)
			b.WriteString(c.fit(text))
			b.WriteString(style.close)
		}
		used += c.w
	}
	if used < m.width {
		b.WriteString(strings.Repeat(" ", m.width-used))
	}
	if selected {
		b.WriteString(cs.selected.close)
	}
}

func startText(buf []byte, r *cdr.Record, w int) string {
	if r.Start.IsZero() {
		return "?"
	}
	switch {
	case w >= 19:
		return string(r.Start.AppendFormat(buf, "2006-01-02 15:04:05"))
	case w >= 14:
		return string(r.Start.AppendFormat(buf, "01-02 15:04:05"))
	}
	return string(r.Start.AppendFormat(buf, "15:04:05"))
}

func typeText(t cdr.CallType, w int) string {
	g := common.TypeGlyph(t)
	if w < 3 {
		return g
	}
	switch t {
	case cdr.CallInbound:
		return g + " in"
	case cdr.CallOutbound:
		return g + " out"
	case cdr.CallInternal:
		return g + " int"
	case "":
		return g
	}
	return g + " " + string(t)
}
