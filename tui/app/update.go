package app

import (
	"errors"
	"fmt"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/calltable"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/filter"
	"github.com/callscope/callscope/tui/playerbar"
	"github.com/callscope/callscope/tui/prompt"
	"github.com/callscope/callscope/tui/statusbar"
	"github.com/callscope/callscope/tui/theme"
	"github.com/callscope/callscope/tui/users"
)

func (k fetchKind) String() string {
	switch k {
	case fetchRefresh:
		return "refresh"
	case fetchFollow:
		return "follow"
	}
	return "load"
}

func isZeroQuery(q cdr.Query) bool { return q.From.IsZero() && q.To.IsZero() && q.Page == 0 }

func filterZero() filter.State { return filter.State{} }

// Update routes a message: window size to every component, keys and mouse to the focused one, the app's own
// results to their handlers, and everything else to every component (each ignores what is not its own). After
// each message it tells the components what changed: the selection, the shown rows, the status line.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, tea.Batch(cmd, m.sync())
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.relayout(true)
		return nil
	case tea.BackgroundColorMsg:
		if m.o.Dark == nil && !m.o.NoColor {
			m.ctx.SetTheme(theme.New(msg.IsDark(), false))
			m.help.Styles = m.ctx.Styles.Help
			m.spin.Style = m.ctx.Styles.StatusKV
		}
		return nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.MouseWheelMsg, tea.MouseClickMsg:
		return m.handleMouse(msg.(tea.MouseMsg))
	case spinner.TickMsg:
		if m.fetch == nil || m.fetch.kind == fetchFollow {
			m.spinning = false // the chain of ticks ends with the fetch
			return nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return cmd
	case batchMsg:
		return m.handleBatch(msg)
	case doneMsg:
		return m.handleDone(msg)
	case usersMsg:
		m.users.SetUsers(msg.users, msg.err)
		if msg.err != nil {
			m.o.Log.Printf("users: %v", msg.err)
			return nil // the users view says why; the calls work without names
		}
		m.names = users.Names(msg.users)
		m.table.SetNames(m.names)
		m.detail.SetNames(m.names)
		exts := make([]string, len(msg.users))
		for i, u := range msg.users {
			exts[i] = u.Extension
		}
		m.panel.SetExtensions(exts)
		if m.filters.Search != "" {
			m.applyFilters() // names take part in the search
		}
		return nil
	case gotoMsg:
		return m.handleGoto(msg)
	case warningMsg:
		m.o.Log.Printf("warning: %s", msg.text)
		return tea.Batch(common.Warning(msg.text), waitWarning(msg.ch))
	case followTick:
		if !m.follow || msg.gen != m.followGen {
			return nil
		}
		if m.fetch != nil {
			return m.scheduleFollow() // the user's fetch first; poll after it
		}
		return m.poll()
	case filter.Changed:
		m.filters = msg.State
		m.applyFilters()
		if msg.Final {
			return m.serverFilterRefetch()
		}
		return nil
	case users.FilterExtension:
		m.filters.Extensions = []string{msg.Extension}
		m.applyFilters()
		return tea.Batch(common.Status("showing the calls of extension "+msg.Extension+"; esc clears"), m.serverFilterRefetch())
	case prompt.GotoMsg:
		return m.gotoCall(msg.Lookup)
	case prompt.RangeMsg:
		q := cdr.Query{From: msg.From, To: msg.To}
		return m.load(q, describeQuery(q))
	case prompt.PageMsg:
		return m.gotoPage(msg.Page)
	case prompt.PageSizeMsg:
		return m.setPageSize(msg.Size)
	case common.CloseDialog:
		m.closeDialog()
		return nil
	case common.FocusTable:
		m.playerFocus = false
		m.player.Blur()
		return nil
	case common.ExportRequest:
		cmd := m.export.Update(msg)
		m.openDialog(m.export)
		return tea.Batch(cmd, m.export.Focus())
	case common.PlayRequest:
		if msg.Record.HasRecording() {
			// Whatever the status bar said ("call … has no recording", the last call's failure) was about
			// something else; if this one fails the player says so.
			m.status.Update(common.StatusMsg{})
		}
		cmd := m.player.Update(msg)
		m.relayout(false)
		return cmd
	}
	return m.broadcast(msg)
}

// broadcast hands a message to every component that may own it: the player bar's, the overview's and the export
// dialog's own results, status lines, text-input cursor blinks.
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := []tea.Cmd{
		m.player.Update(msg),
		m.overview.Update(msg),
		m.export.Update(msg),
		m.status.Update(msg),
		m.detail.Update(msg),
	}
	if m.dialog != nil && m.dialog != common.Focusable(m.export) && m.dialog != common.Focusable(m.overview) {
		cmds = append(cmds, m.dialog.Update(msg))
	}
	if m.searching {
		cmds = append(cmds, m.search.Update(msg))
	}
	return tea.Batch(cmds...)
}

// sync tells the components what the last message changed: the status line's fields, a new selection for the
// detail pane, new rows for an open overview, the layout when the player bar appeared.
func (m *Model) sync() tea.Cmd {
	var cmds []tea.Cmd
	if m.player.Phase() == playerbar.Loaded {
		// The recording's real length, for the details pane: known once the player has decoded it.
		if d := m.player.State().Length; d > 0 {
			r := m.player.Record()
			m.detail.SetRecordingLength(calltable.Key(&r), d)
		}
	}
	if sel := m.table.Selected(); sel != m.sel {
		m.sel = sel
		m.detail.Update(common.SelectionChanged{Record: sel})
	}
	if m.rowsDirty {
		m.rowsDirty = false
		if m.overview.Focused() {
			cmds = append(cmds, m.overview.Update(m.rowsChanged()))
		}
	}
	m.table.SetEmptyText(m.emptyText())
	st := m.status
	st.Shown, st.Loaded, st.Marked = m.table.Shown(), m.table.Loaded(), m.table.Marked()
	st.Filters = m.filters.String()
	st.Follow = m.follow
	st.Range = m.rangeText()
	st.Busy = ""
	if m.fetch != nil && m.fetch.kind != fetchFollow {
		st.Busy = m.spin.View() + " loading"
		if m.loadedN > 0 {
			st.Busy += " " + statusbar.Count(m.loadedN)
		}
	}
	m.relayout(false)
	return tea.Batch(cmds...)
}

// emptyText is what the table says when it shows no row: why, and what to do about it.
func (m *Model) emptyText() string {
	switch {
	case m.src == nil:
		return "no PBX configured: run callscope with --demo or set up a profile"
	case m.table.Loaded() > 0:
		return fmt.Sprintf("no calls match — esc clears the search/filters (%s loaded)", statusbar.Count(m.table.Loaded()))
	case m.fetch != nil && m.fetch.kind == fetchLoad:
		return "loading calls " + queryWords(m.fetch.q) + "…"
	case m.loadFailed:
		return "no calls: the fetch failed (the status bar says why) — r retries"
	case isZeroQuery(m.query):
		return "no calls yet"
	}
	if f, t := cdr.WallClock(m.query.From), cdr.WallClock(m.query.To); m.query.Page == 0 && !f.IsZero() &&
		f.Equal(midnight(f)) && t.Equal(f.AddDate(0, 0, 1)) {
		return "no calls on " + f.Format("2006-01-02") + " — y, w, m or R load other days"
	}
	return "no calls " + queryWords(m.query) + " — t, y, w, m or R load other days"
}

// queryWords names what a query asks for, in the words of common.RangeWords.
func queryWords(q cdr.Query) string {
	if q.Page > 0 {
		return fmt.Sprintf("on page %d", q.Page)
	}
	return common.RangeWords(cdr.WallClock(q.From), cdr.WallClock(q.To))
}

func (m *Model) rowsChanged() common.RowsChanged {
	return common.RowsChanged{Rows: m.table.Rows(), Loaded: m.table.Loaded(), Filters: m.filters.String(),
		Range: m.rangeText()}
}

// rangeText is what is loaded, for the status bar: the range, the PBX's page, or the local page of the range.
func (m *Model) rangeText() string {
	s := m.rangeLabel
	if m.query.Page > 0 {
		s = fmt.Sprintf("page %d", m.query.Page)
		if m.totalPages > 0 {
			s += fmt.Sprintf("/%d", m.totalPages)
		}
		return s
	}
	if p, n := m.table.Page(); n > 0 {
		s += fmt.Sprintf(" · page %d/%d", p, n)
	}
	return s
}

func (m *Model) applyFilters() {
	m.table.SetFilter(m.filters.Compile(m.names, filter.Dialling{CountryCode: m.o.CountryCode}))
	m.rowsDirty = true
}

// serverFilterRefetch fetches again when the extension the PBX should filter by changed (Difuse's extension
// parameter): the local filter has already narrowed the rows; the PBX then sends only that extension's calls.
func (m *Model) serverFilterRefetch() tea.Cmd {
	if !m.caps.ServerExtension || isZeroQuery(m.query) || m.serverExtension() == m.query.Extension {
		return nil
	}
	return m.startFetch(fetchRefresh, m.query, m.rangeLabel)
}

func (m *Model) openDialog(d common.Focusable) {
	if m.dialog != nil && m.dialog != d {
		m.dialog.Blur()
	}
	m.dialog = d
	m.showHelp = false
	m.relayout(true)
}

func (m *Model) closeDialog() {
	if m.dialog != nil {
		m.dialog.Blur()
		m.dialog = nil
	}
	if m.searching {
		m.searching = false
		m.search.Blur()
	}
	m.relayout(true)
}

// openPrompt shows one of the small entry dialogs.
func (m *Model) openPrompt(p *prompt.Model) tea.Cmd {
	m.openDialog(p)
	return p.Focus()
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	// Pause works from anywhere a key is not text being typed.
	if m.dialog == nil && !m.searching {
		if cmd, ok := m.player.HandleGlobal(msg); ok {
			return cmd
		}
	}
	switch {
	case m.dialog != nil:
		return m.dialog.Update(msg)
	case m.searching:
		return m.search.Update(msg)
	case m.showHelp:
		if key.Matches(msg, m.keys.Help, m.keys.Escape, m.keys.Quit) {
			m.showHelp = false
		}
		return nil
	case m.playerFocus && m.playerOwns(msg):
		return m.player.Update(msg)
	}
	return m.tableKey(msg)
}

// playerOwns reports whether a key is one of the focused player bar's; the others (the cursor keys, q) still
// work on the calls.
func (m *Model) playerOwns(msg tea.KeyPressMsg) bool {
	return key.Matches(msg, m.playerKeys()...)
}

// playerKeys are the bindings the player bar takes while it has focus.
func (m *Model) playerKeys() []key.Binding {
	return append(m.player.Keys.Controls(), m.player.Keys.Leave)
}

func (m *Model) quit() tea.Cmd {
	if m.fetch != nil {
		m.fetch.cancel()
		m.fetch = nil
	}
	m.follow = false
	return tea.Quit
}

func (m *Model) tableKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Play):
		r := m.table.Selected()
		if r == nil {
			return common.Status("no call selected: load a range first (t today, w last 7 days)")
		}
		if !r.HasRecording() {
			// Say so without stopping what plays: the player keeps the call it has.
			return common.Status("call " + lookupName(*r) + " has no recording")
		}
		return common.Cmd(common.PlayRequest{Record: *r})
	case key.Matches(msg, k.Player):
		if !m.player.Active() {
			return common.Status("nothing is playing: enter plays the selected call")
		}
		m.playerFocus = true
		return m.player.Focus()
	case key.Matches(msg, k.Detail):
		m.showDetail = !m.showDetail
		m.relayout(true)
	case key.Matches(msg, k.Users):
		m.openDialog(m.users)
		return m.users.Focus()
	case key.Matches(msg, k.Overview):
		cmd := m.overview.SetRows(m.table.Rows(), m.filters.String())
		m.openDialog(m.overview)
		return tea.Batch(cmd, m.overview.Focus())
	case key.Matches(msg, k.Export):
		rows, marked := m.table.MarkedRows(), true
		if rows.Len() == 0 {
			rows, marked = m.table.Rows(), false
		}
		if rows.Len() == 0 {
			return common.Status("nothing to export: no calls are shown")
		}
		return common.Cmd(common.ExportRequest{Rows: rows, Marked: marked})
	case key.Matches(msg, k.Search):
		m.searching = true
		m.relayout(true)
		return m.search.Open(m.filters)
	case key.Matches(msg, k.Filters):
		cmd := m.panel.Open(m.filters)
		m.openDialog(m.panel)
		return cmd
	case key.Matches(msg, k.Escape):
		if m.fetch != nil && m.fetch.kind != fetchFollow {
			return m.cancelFetch()
		}
		if m.status.Dismiss() {
			return nil
		}
		if !m.filters.IsZero() {
			m.filters = filterZero()
			m.applyFilters()
			return tea.Batch(common.Status("filters cleared"), m.serverFilterRefetch())
		}
		if m.table.Marked() > 0 {
			return common.Status("esc has nothing to clear; C clears the marks")
		}
	case key.Matches(msg, k.Refresh):
		return m.refresh()
	case key.Matches(msg, k.Follow):
		m.follow = !m.follow
		if !m.follow {
			m.followGen++
			if m.fetch != nil && m.fetch.kind == fetchFollow {
				m.fetch.cancel()
				m.fetch = nil
			}
			return common.Status("follow off")
		}
		return tea.Batch(common.Status(fmt.Sprintf("following: new calls are added at the top every %s", followEvery)),
			m.poll())
	case key.Matches(msg, k.Today):
		return m.loadPreset(presetToday)
	case key.Matches(msg, k.Yesterday):
		return m.loadPreset(presetYesterday)
	case key.Matches(msg, k.Week):
		return m.loadPreset(presetWeek)
	case key.Matches(msg, k.Month):
		return m.loadPreset(presetMonth)
	case key.Matches(msg, k.Range):
		from, to := m.query.From, m.query.To
		if m.query.Page > 0 || from.IsZero() {
			from, to, _ = m.presetRange(presetToday)
		}
		return m.openPrompt(prompt.Range(m.ctx, from, to))
	case key.Matches(msg, k.Goto):
		return m.openPrompt(prompt.Goto(m.ctx))
	case key.Matches(msg, k.NextPage):
		return m.pageBy(1)
	case key.Matches(msg, k.PrevPage):
		return m.pageBy(-1)
	case key.Matches(msg, k.GotoPage):
		if m.caps.Pages {
			return m.openPrompt(prompt.Page(m.ctx, max(1, m.query.Page), m.totalPages))
		}
		if _, n := m.table.Page(); n == 0 {
			m.table.SetPageSize(m.pageSize)
		}
		cur, n := m.table.Page()
		return m.openPrompt(prompt.Page(m.ctx, cur, n))
	case key.Matches(msg, k.PageSize):
		return m.openPrompt(prompt.PageSize(m.ctx, m.pageSize))
	case m.showDetail && m.detail.Owns(msg):
		return m.detail.Update(msg)
	default:
		return m.table.Update(msg)
	}
	return nil
}

// gotoCall fetches one call by ID or start time and selects it.
func (m *Model) gotoCall(l cdr.Lookup) tea.Cmd {
	if m.src == nil {
		return common.Error(errors.New("no PBX configured: run callscope with --demo or set up a profile"))
	}
	m.gotoTag++
	// The note is set here, not by a Cmd, so it can never land after the answer.
	m.status.Update(common.StatusMsg{Text: "fetching " + l.String() + "…"})
	return fetchCall(m.gotoTag, m.src, l, false)
}

// pageBy moves d pages: the PBX's pages where it has them, else local pages over the loaded range.
func (m *Model) pageBy(d int) tea.Cmd {
	if m.caps.Pages {
		p := m.query.Page + d
		if m.query.Page == 0 {
			p = 1 // from a range into the PBX's pages
		}
		switch {
		case p < 1:
			return common.Status("already on the first page")
		case m.totalPages > 0 && p > m.totalPages:
			return common.Status(fmt.Sprintf("already on the last page (%d)", m.totalPages))
		}
		return m.gotoPage(p)
	}
	cur, n := m.table.Page()
	if n == 0 {
		m.table.SetPageSize(m.pageSize)
		cur, n = m.table.Page()
		return common.Status(fmt.Sprintf("showing the loaded calls %d per page: page %d of %d ([ ] move, Z sets the size)", m.pageSize, cur, n))
	}
	switch {
	case cur+d < 1:
		return common.Status("already on the first page")
	case cur+d > n:
		return common.Status(fmt.Sprintf("already on the last page (%d)", n))
	}
	m.table.SetPage(cur + d)
	return nil
}

func (m *Model) gotoPage(p int) tea.Cmd {
	if m.caps.Pages {
		return m.load(cdr.Query{Page: p, Limit: m.pageSize}, fmt.Sprintf("page %d", p))
	}
	if _, n := m.table.Page(); n == 0 {
		m.table.SetPageSize(m.pageSize)
	}
	m.table.SetPage(p)
	return nil
}

func (m *Model) setPageSize(n int) tea.Cmd {
	m.pageSize = n
	if m.caps.Pages {
		if m.query.Page > 0 {
			return m.gotoPage(1)
		}
		return common.Status(fmt.Sprintf("pages of %d calls: ] fetches page 1", n))
	}
	m.table.SetPageSize(n)
	cur, pages := m.table.Page()
	return common.Status(fmt.Sprintf("showing the loaded calls %d per page: page %d of %d", n, cur, pages))
}

// handleMouse scrolls the table with the wheel and selects the row clicked (or sorts by the header clicked).
func (m *Model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	if m.dialog != nil || m.showHelp {
		return nil
	}
	ms := msg.Mouse()
	t := m.lay.table
	switch msg.(type) {
	case tea.MouseWheelMsg:
		if m.showDetail && m.lay.detail.contains(ms.X, ms.Y) {
			return m.detail.Update(msg)
		}
		if ms.Y >= t.y && ms.Y < t.y+t.h {
			return m.table.Update(msg)
		}
	case tea.MouseClickMsg:
		if ms.Button == tea.MouseLeft && t.contains(ms.X, ms.Y) {
			m.table.Click(ms.X-t.x, ms.Y-t.y)
		}
	}
	return nil
}
