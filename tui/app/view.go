package app

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/fit"
)

type rect struct{ x, y, w, h int }

func (r rect) contains(x, y int) bool { return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h }

// layout is where each part goes on the current screen.
type layout struct {
	sig        [7]int
	body       rect // between the header and the search line/player/status: table and detail, or a dialog
	table      rect
	detail     rect
	detailSide bool
	player     rect
	searchY    int // -1 when the search line is hidden
	sticky     int // sticky message lines above the status bar
}

const (
	minWidth, minHeight = 30, 8
	playerRows          = 3
	detailSideFrom      = 110 // terminal width from which the detail pane goes beside the table
)

// relayout recomputes the layout and hands every component its size when something that shapes the screen
// changed (or always, when forced).
func (m *Model) relayout(force bool) {
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	// Sticky messages (start-up errors, warnings) get a line each above the status bar, two at most, and none
	// on a terminal too short to spare them.
	sticky := min(len(m.status.Sticky()), 2, max(0, m.height-minHeight))
	sig := [7]int{m.width, m.height, b2i(m.focus.is(areaSearch)), b2i(m.player.Active()), b2i(m.showDetail), b2i(m.focus.is(areaDialog)), sticky}
	if !force && sig == m.lay.sig {
		return
	}
	w, h := m.width, m.height
	m.ctx.Width, m.ctx.Height = w, h
	l := layout{sig: sig, searchY: -1, sticky: sticky}
	bottom := 2 + sticky // sticky lines, status bar and short help
	y := h - bottom
	playerH := 0
	if m.player.Active() {
		playerH = min(playerRows, max(1, h-minHeight))
		y -= playerH
		l.player = rect{0, y, w, playerH}
	}
	if m.focus.is(areaSearch) {
		y--
		l.searchY = y
	}
	l.body = rect{0, 1, w, max(1, y-1)}
	l.table = l.body
	if m.showDetail {
		if w >= detailSideFrom {
			dw := min(64, max(50, w*2/5))
			l.table.w = w - dw
			l.detail = rect{l.table.w, l.body.y, dw, l.body.h}
			l.detailSide = true
		} else {
			// Below the table on a narrow terminal, with most of the height: the fields scroll (J/K) when
			// they do not fit, and the table keeps a few rows to move through the calls.
			dh := min(20, max(l.body.h/2, l.body.h-8))
			l.table.h = l.body.h - dh
			l.detail = rect{0, l.body.y + l.table.h, w, dh}
		}
	}
	m.lay = l
	m.table.SetSize(l.table.w, l.table.h)
	m.detail.SetSize(l.detail.w, l.detail.h)
	m.player.SetSize(w, playerH)
	m.status.SetSize(w, 1)
	m.search.SetSize(w, 1)
	bw, bh := l.body.w, l.body.h
	m.panel.SetSize(bw, bh)
	m.users.SetSize(bw, bh)
	m.export.SetSize(bw, bh)
	m.overview.SetSize(min(bw, 120), min(bh, 34))
	if d := m.focus.dialog; d != nil {
		d.SetSize(bw, bh)
		if d == common.Focusable(m.overview) {
			m.overview.SetSize(min(bw, 120), min(bh, 34))
		}
	}
}

// View draws the whole screen: header, calls (with the detail pane) or the open dialog, the search line, the
// player bar, the status bar and the short help.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "callscope"
	return v
}

func (m *Model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.width < minWidth || m.height < minHeight {
		return fit.Block("terminal too small\nneeds 30×8", m.width, m.height, true)
	}
	l := m.lay
	var b strings.Builder
	b.Grow(m.width * m.height * 3)
	b.WriteString(m.header())
	b.WriteByte('\n')
	switch m.focus.now {
	case areaHelp:
		b.WriteString(fit.Block(m.fullHelp(l.body.w, l.body.h), l.body.w, l.body.h, false))
	case areaDialog:
		b.WriteString(overlay(m.calls(), m.focus.dialog.View(), l.body.w, l.body.h))
	default:
		b.WriteString(m.calls())
	}
	if l.searchY >= 0 {
		b.WriteByte('\n')
		b.WriteString(fit.Line(m.search.View(), m.width))
	}
	if l.player.h > 0 {
		b.WriteByte('\n')
		b.WriteString(m.player.View())
	}
	if l.sticky > 0 {
		b.WriteByte('\n')
		b.WriteString(m.status.StickyView(l.sticky))
	}
	b.WriteByte('\n')
	b.WriteString(m.status.View())
	b.WriteByte('\n')
	b.WriteString(m.shortHelpLine())
	return b.String()
}

// calls is the body without a dialog: the table, and the detail pane beside or below it.
func (m *Model) calls() string {
	l := m.lay
	switch {
	case m.showDetail && l.detailSide:
		return lipgloss.JoinHorizontal(lipgloss.Top, m.table.View(), fit.Block(m.detail.View(), l.detail.w, l.detail.h, false))
	case m.showDetail:
		return m.table.View() + "\n" + fit.Block(m.detail.View(), l.detail.w, l.detail.h, false)
	}
	return m.table.View()
}

// overlay draws a dialog box centred over the body, so the calls stay in view around it.
func overlay(bg, box string, w, h int) string {
	if box == "" {
		return fit.Block(bg, w, h, false)
	}
	bw, bh := lipgloss.Width(box), lipgloss.Height(box)
	if bw >= w || bh >= h {
		return fit.Block(box, w, h, true)
	}
	c := lipgloss.NewCanvas(w, h)
	c.Compose(lipgloss.NewCompositor(lipgloss.NewLayer(bg), lipgloss.NewLayer(box).X((w-bw)/2).Y((h-bh)/2).Z(1)))
	return fit.Block(c.Render(), w, h, false)
}

// header is the top line: the app, the PBX kind and what is loaded; the help key on the right.
func (m *Model) header() string {
	st := &m.ctx.Styles
	left := st.Title.Render(" callscope")
	kind := m.load.caps.Kind
	if kind == "" && m.src == nil {
		kind = "no PBX"
	}
	if kind != "" {
		left += st.Muted.Render(" · " + kind)
	}
	if r := m.load.rangeText(); r != "" {
		left += st.Muted.Render(" · ") + st.Normal.Render(r)
	}
	if z := m.load.pbxZoneNote(); z != "" {
		left += st.Muted.Render(" · " + z)
	}
	right := st.Muted.Render("? help ")
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return fit.Line(left, m.width)
	}
	return left + strings.Repeat(" ", gap) + right
}

// Bindings shown only in help: several keys under one label.
var (
	helpRanges  = key.NewBinding(key.WithKeys("t"), key.WithHelp("t/y/w/m", "today…month"))
	helpClose   = key.NewBinding(key.WithKeys("?"), key.WithHelp("?/esc", "close help"))
	helpPause   = key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause"))
	helpHide    = key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "hide details"))
	helpDismiss = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "dismiss message"))
)

// shortHelp is the focused part's keys, always shown on the last line.
func (m *Model) shortHelp() []key.Binding {
	k := m.keys
	switch m.focus.now {
	case areaDialog:
		return m.focus.dialog.ShortHelp()
	case areaSearch:
		return m.search.ShortHelp()
	case areaHelp:
		return []key.Binding{helpClose}
	case areaPlayer:
		return m.player.ShortHelp()
	}
	var out []key.Binding
	if len(m.status.Sticky()) > 0 {
		out = append(out, helpDismiss)
	}
	out = append(out, k.Play)
	if m.player.Active() {
		out = append(out, k.Player, helpPause)
	}
	if m.showDetail {
		out = append(out, helpHide)
		out = append(out, m.detail.ShortHelp()...)
	} else {
		out = append(out, k.Detail)
	}
	return append(out, m.table.Keys.Mark, k.Search, k.Filters, helpRanges, k.Export, k.Help, k.Quit)
}

// shortHelpLine draws the short help, dropping the bindings that do not fit (bubbles' ShortHelpView can spill
// past its width by one item) and padding to the full width.
func (m *Model) shortHelpLine() string {
	st := m.ctx.Styles.Help
	sep := st.ShortSeparator.Render(" • ")
	var b strings.Builder
	used := 0
	b.WriteByte(' ')
	used++
	for _, kb := range m.shortHelp() {
		if !kb.Enabled() || kb.Help().Key == "" {
			continue
		}
		item := st.ShortKey.Render(kb.Help().Key) + " " + st.ShortDesc.Render(kb.Help().Desc)
		w := ansi.StringWidth(kb.Help().Key) + 1 + ansi.StringWidth(kb.Help().Desc)
		if used > 1 {
			item = sep + item
			w += 3
		}
		if used+w > m.width {
			if used+2 <= m.width {
				b.WriteString(st.Ellipsis.Render(" …"))
			}
			break
		}
		b.WriteString(item)
		used += w
	}
	return fit.Line(b.String(), m.width)
}

// ShortHelp and FullHelp make the root a help.KeyMap like every component.
func (m *Model) ShortHelp() []key.Binding { return m.shortHelp() }

func (m *Model) FullHelp() [][]key.Binding {
	var out [][]key.Binding
	for _, s := range m.helpSections() {
		out = append(out, s.groups...)
	}
	return out
}

// helpSection is a titled part of the `?` page.
type helpSection struct {
	title  string
	groups [][]key.Binding
}

// helpSections is the `?` page for the part that has focus. Keys that mean something else when the player has
// the keyboard (space, s, [, ], esc, tab) are listed only with the meaning they have now: with the player
// focused its keys come first and the calls' sections leave out the ones it takes.
func (m *Model) helpSections() []helpSection {
	k := m.keys
	calls := m.table.FullHelp()
	calls = append(calls, []key.Binding{k.Play, k.Detail, k.Users, k.Overview, k.Export, k.Help, k.Quit})
	if m.showDetail {
		calls = append(calls, []key.Binding{m.detail.Keys.ScrollDown})
	}
	fetching := [][]key.Binding{
		{k.Search, k.Filters, k.Escape, k.Refresh, k.Follow, k.Goto},
		{k.Today, k.Yesterday, k.Week, k.Month, k.Range, k.NextPage, k.PrevPage, k.GotoPage, k.PageSize},
	}
	if m.focus.player() {
		owned := m.playerKeys()
		return []helpSection{
			{"Player (has the keys)", m.player.FullHelp()},
			{"Calls", withoutKeys(calls, owned)},
			{"Fetching", withoutKeys(fetching, owned)},
		}
	}
	return []helpSection{
		{"Calls", calls},
		{"Fetching", fetching},
		{"Player", [][]key.Binding{{m.player.Global.Toggle, k.Player}}},
	}
}

// withoutKeys drops from groups every binding that shares a key with one of taken.
func withoutKeys(groups [][]key.Binding, taken []key.Binding) [][]key.Binding {
	var out [][]key.Binding
	for _, g := range groups {
		var kept []key.Binding
		for _, b := range g {
			if !sharesKey(b, taken) {
				kept = append(kept, b)
			}
		}
		if len(kept) > 0 {
			out = append(out, kept)
		}
	}
	return out
}

func sharesKey(b key.Binding, others []key.Binding) bool {
	for _, o := range others {
		for _, k := range b.Keys() {
			if slices.Contains(o.Keys(), k) {
				return true
			}
		}
	}
	return false
}

// fullHelp is the `?` page: every binding of the focused part, in sections, flowed into as many columns as the
// height needs.
func (m *Model) fullHelp(w, h int) string {
	st := &m.ctx.Styles
	type item struct{ key, desc, title string }
	var items []item
	for _, sec := range m.helpSections() {
		items = append(items, item{title: sec.title})
		for _, g := range sec.groups {
			for _, b := range g {
				if b.Enabled() && b.Help().Key != "" {
					items = append(items, item{key: b.Help().Key, desc: b.Help().Desc})
				}
			}
		}
	}
	if !m.focus.player() {
		items = append(items, item{desc: "(then ? lists them)"})
	}
	rows := max(4, h-1)
	// Flow the items into columns; a section title never ends a column.
	var chunks [][]item
	var cur []item
	for i, it := range items {
		full := len(cur) == rows || (it.title != "" && len(cur) == rows-1 && i+1 < len(items))
		if full {
			chunks = append(chunks, cur)
			cur = nil
		}
		cur = append(cur, it)
	}
	chunks = append(chunks, cur)
	var cols []string
	for _, chunk := range chunks {
		kw := 0
		for _, it := range chunk {
			kw = max(kw, ansi.StringWidth(it.key))
		}
		lines := make([]string, len(chunk))
		for i, it := range chunk {
			if it.title != "" {
				lines[i] = st.Title.Render(it.title)
				continue
			}
			lines[i] = st.Help.FullKey.Render(fit.Pad(it.key, kw)) + " " + st.Help.FullDesc.Render(it.desc)
		}
		cols = append(cols, strings.Join(lines, "\n"))
	}
	var parts []string
	for i, c := range cols {
		if i > 0 {
			parts = append(parts, "  ")
		}
		parts = append(parts, c)
	}
	body := lipgloss.JoinHorizontal(lipgloss.Top, parts...)
	return "\n" + indent(body)
}

func indent(s string) string {
	return " " + strings.ReplaceAll(s, "\n", "\n ")
}
