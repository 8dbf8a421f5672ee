package app

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/human"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/filter"
	"github.com/callscope/callscope/tui/playerbar"
	"github.com/callscope/callscope/tui/prompt"
	"github.com/callscope/callscope/tui/statusbar"
	"github.com/callscope/callscope/tui/theme"
	"github.com/callscope/callscope/tui/users"
)

// Update routes a message: window size to every component, keys and mouse to the focused one, the loader's
// answers to the loader, and everything else to every component (each ignores what is not its own). After each
// message it tells the components what changed: the selection, the shown rows, the layout.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, tea.Batch(cmd, m.afterUpdate())
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	if cmd, ok := m.load.update(msg); ok {
		return cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.relayout(true)
		return nil
	case tea.BackgroundColorMsg:
		if m.o.Dark == nil && !m.o.NoColor {
			m.ctx.SetTheme(theme.New(msg.IsDark(), false))
			m.spin.Style = m.ctx.Styles.StatusKV
		}
		return nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.MouseWheelMsg, tea.MouseClickMsg:
		return m.handleMouse(msg.(tea.MouseMsg))
	case spinner.TickMsg:
		if busy, _ := m.load.busy(); !busy {
			m.spinning = false // the chain of ticks ends with the fetch
			return nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return cmd
	case usersMsg:
		m.users.SetUsers(msg.users, advise(msg.err))
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
	case warningMsg:
		m.o.Log.Printf("warning: %s", msg.text)
		return tea.Batch(common.Warning(msg.text), waitWarning(msg.ch))
	case filter.Changed:
		m.filters = msg.State
		m.applyFilters()
		return m.load.filterBy(m.filters.Extensions, msg.Final)
	case users.FilterExtension:
		m.filters.Extensions = []string{msg.Extension}
		m.applyFilters()
		return tea.Batch(common.Status("showing the calls of extension "+msg.Extension+"; esc clears"),
			m.load.filterBy(m.filters.Extensions, true))
	case prompt.GotoMsg:
		return m.gotoCall(msg.Lookup)
	case prompt.RangeMsg:
		q := cdr.Query{From: msg.From, To: msg.To}
		return m.load.load(q, describeQuery(q))
	case prompt.PageMsg:
		return m.load.gotoPage(msg.Page)
	case prompt.PageSizeMsg:
		return m.load.setPageSize(msg.Size)
	case common.StatusMsg:
		msg.Err = advise(msg.Err) // from any component: the remedy in the app's words
		return m.broadcast(msg)
	case common.CloseDialog:
		m.closeOverlay()
		return nil
	case common.FocusTable:
		m.focus.give(areaCalls)
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
	if d := m.focus.dialog; d != nil && d != common.Focusable(m.export) && d != common.Focusable(m.overview) {
		cmds = append(cmds, d.Update(msg))
	}
	if m.focus.is(areaSearch) {
		cmds = append(cmds, m.search.Update(msg))
	}
	return tea.Batch(cmds...)
}

// afterUpdate tells the components what the last message changed: a new selection for the detail pane, new rows
// for an open overview, the recording's length once decoded, the table's empty text, the layout when the player
// bar appeared; and it starts the spinner when a fetch began.
func (m *Model) afterUpdate() tea.Cmd {
	var cmds []tea.Cmd
	if m.player.Phase() == playerbar.Loaded {
		// The recording's real length, for the details pane: known once the player has decoded it.
		if d := m.player.State().Length; d > 0 {
			r := m.player.Record()
			m.detail.SetRecordingLength(common.CallKey(&r), d)
		}
	}
	if sel := m.table.Selected(); sel != m.sel {
		m.sel = sel
		m.detail.Update(common.SelectionChanged{Record: sel})
	}
	if m.load.rowsChanged() || m.rowsDirty {
		m.rowsDirty = false
		if m.overview.Focused() {
			cmds = append(cmds, m.overview.Update(m.rowsChanged()))
		}
	}
	m.table.SetEmptyText(m.load.emptyText())
	if busy, _ := m.load.busy(); busy && !m.spinning {
		m.spinning = true
		cmds = append(cmds, m.spin.Tick)
	}
	m.relayout(false)
	return tea.Batch(cmds...)
}

// statusFields is what the status bar shows about the calls, read when it is drawn.
func (m *Model) statusFields() statusbar.Fields {
	f := statusbar.Fields{
		Range:   m.load.rangeText(),
		Shown:   m.table.Shown(),
		Loaded:  m.table.Loaded(),
		Marked:  m.table.Marked(),
		Filters: m.filters.String(),
		Follow:  m.load.follow,
	}
	if m.src != nil {
		f.Source = m.src.Describe()
	}
	if busy, n := m.load.busy(); busy {
		f.Busy = m.spin.View() + " loading"
		if n > 0 {
			f.Busy += " " + human.Count(int64(n))
		}
	}
	return f
}

func (m *Model) rowsChanged() common.RowsChanged {
	return common.RowsChanged{Rows: m.table.Rows(), Loaded: m.table.Loaded(), Filters: m.filters.String(),
		Range: m.load.rangeText()}
}

// applyFilters shows the rows the filters let through and tells the loader which extension the PBX could filter
// by itself.
func (m *Model) applyFilters() {
	m.table.SetFilter(m.filters.Compile(m.names, filter.Dialling{CountryCode: m.o.CountryCode}))
	m.load.filterBy(m.filters.Extensions, false)
	m.rowsDirty = true
}

// openDialog puts a dialog over the calls with the keyboard; what was open over them gives way.
func (m *Model) openDialog(d common.Focusable) {
	if old := m.focus.dialog; old != nil && old != d {
		old.Blur()
	}
	if m.focus.is(areaSearch) {
		m.search.Blur()
	}
	m.focus.openDialog(d)
	m.relayout(true)
}

// closeOverlay closes the dialog or the search line and gives the keys back to what is under it.
func (m *Model) closeOverlay() {
	if d := m.focus.dialog; d != nil {
		d.Blur()
	}
	if m.focus.is(areaSearch) {
		m.search.Blur()
	}
	m.focus.close()
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
	switch m.focus.now {
	case areaDialog:
		return m.focus.dialog.Update(msg)
	case areaSearch:
		return m.search.Update(msg)
	}
	// Pause works from anywhere a key is not text being typed.
	if cmd, ok := m.player.HandleGlobal(msg); ok {
		return cmd
	}
	switch {
	case m.focus.is(areaHelp):
		if key.Matches(msg, m.keys.Help, m.keys.Escape, m.keys.Quit) {
			m.focus.close()
		}
		return nil
	case m.focus.is(areaPlayer) && m.playerOwns(msg):
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
	m.load.stop()
	return tea.Quit
}

func (m *Model) tableKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.focus.open(areaHelp)
	case key.Matches(msg, k.Play):
		r := m.table.Selected()
		if r == nil {
			return common.Status("no call selected: load a range first (t today, w last 7 days)")
		}
		if !r.HasRecording() {
			// Say so without stopping what plays: the player keeps the call it has.
			return common.Status("call " + r.Ref() + " has no recording")
		}
		return common.Cmd(common.PlayRequest{Record: *r})
	case key.Matches(msg, k.Player):
		if !m.player.Active() {
			return common.Status("nothing is playing: enter plays the selected call")
		}
		m.focus.give(areaPlayer)
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
		m.focus.open(areaSearch)
		m.relayout(true)
		return m.search.Open(m.filters)
	case key.Matches(msg, k.Filters):
		cmd := m.panel.Open(m.filters)
		m.openDialog(m.panel)
		return cmd
	case key.Matches(msg, k.Escape):
		if cmd, ok := m.load.cancel(); ok {
			return cmd
		}
		if m.status.Dismiss() {
			return nil
		}
		if !m.filters.IsZero() {
			m.filters = filter.State{}
			m.applyFilters()
			return tea.Batch(common.Status("filters cleared"), m.load.filterBy(nil, true))
		}
		if m.table.Marked() > 0 {
			return common.Status("esc has nothing to clear; C clears the marks")
		}
	case key.Matches(msg, k.Refresh):
		return m.load.refresh()
	case key.Matches(msg, k.Follow):
		return m.load.toggleFollow()
	case key.Matches(msg, k.Today):
		return m.load.loadPreset(presetToday)
	case key.Matches(msg, k.Yesterday):
		return m.load.loadPreset(presetYesterday)
	case key.Matches(msg, k.Week):
		return m.load.loadPreset(presetWeek)
	case key.Matches(msg, k.Month):
		return m.load.loadPreset(presetMonth)
	case key.Matches(msg, k.Range):
		from, to := m.load.rangeToEdit()
		return m.openPrompt(prompt.Range(m.ctx, from, to))
	case key.Matches(msg, k.Goto):
		return m.openPrompt(prompt.Goto(m.ctx))
	case key.Matches(msg, k.NextPage):
		return m.load.pageBy(1)
	case key.Matches(msg, k.PrevPage):
		return m.load.pageBy(-1)
	case key.Matches(msg, k.GotoPage):
		cur, pages := m.load.pageNow()
		return m.openPrompt(prompt.Page(m.ctx, cur, pages))
	case key.Matches(msg, k.PageSize):
		return m.openPrompt(prompt.PageSize(m.ctx, m.load.pageSize))
	case m.showDetail && m.detail.Owns(msg):
		return m.detail.Update(msg)
	default:
		return m.table.Update(msg)
	}
	return nil
}

// gotoCall fetches one call by ID or start time and selects it.
func (m *Model) gotoCall(l cdr.Lookup) tea.Cmd {
	if m.src != nil {
		// The note is set here, not by a Cmd, so it can never land after the answer.
		m.status.Update(common.StatusMsg{Text: "fetching " + l.String() + "…"})
	}
	return m.load.gotoCall(l, false)
}

// handleMouse scrolls the table with the wheel and selects the row clicked (or sorts by the header clicked).
func (m *Model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	if m.focus.is(areaDialog) || m.focus.is(areaHelp) {
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
