// Package calltable is the call list: a table with its own windowed rendering over an index of the loaded
// records, so moving the cursor costs the same with a thousand rows as with a million. It keeps bubbles' table
// key bindings, help and lipgloss styles, and owns the loaded records, their sort order, the filtered view and
// the marks.
package calltable

import (
	"math"
	"slices"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/filter"
)

// KeyMap is the table's bindings: bubbles' table navigation plus marking and sorting.
type KeyMap struct {
	table.KeyMap
	Mark        key.Binding
	MarkAll     key.Binding
	InvertMarks key.Binding
	ClearMarks  key.Binding
	Sort        key.Binding
	SortReverse key.Binding
}

// DefaultKeyMap is bubbles' table navigation without the letters the app uses for other things.
func DefaultKeyMap() KeyMap {
	km := KeyMap{KeyMap: table.DefaultKeyMap()}
	km.PageUp.SetKeys("pgup", "ctrl+b")
	km.PageUp.SetHelp("pgup", "page up")
	km.PageDown.SetKeys("pgdown", "ctrl+f")
	km.PageDown.SetHelp("pgdn", "page down")
	km.HalfPageUp.SetKeys("ctrl+u")
	km.HalfPageUp.SetHelp("ctrl+u", "½ page up")
	km.HalfPageDown.SetKeys("ctrl+d")
	km.HalfPageDown.SetHelp("ctrl+d", "½ page down")
	km.Mark = key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "mark"))
	km.MarkAll = key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "mark all shown"))
	km.InvertMarks = key.NewBinding(key.WithKeys("I"), key.WithHelp("I", "invert marks"))
	km.ClearMarks = key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "clear marks"))
	km.Sort = key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort column"))
	km.SortReverse = key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "reverse sort"))
	return km
}

// Model is the call table.
type Model struct {
	ctx  *common.Context
	Keys KeyMap

	st    *store  // loaded rows in arrival order; indices into it are stable until Reset
	order []int32 // every loaded row, sorted
	view  []int32 // order with the filter applied: what is shown
	flt   rowFilter
	srt   sorter
	// Append's scratch: the new rows, and those of them shown.
	batch, shown []int32

	cursor int // index into view
	offset int // first view index on screen
	// pinned keeps the cursor on the first row while a new query's rows stream in: a PBX sends a range oldest
	// first, so the first batch is not the newest, and the user expects to open on the top row. A move of the
	// user's, a go-to or Unpin (the load is over) ends it; from then on rows arriving keep the cursor on its call.
	pinned bool

	marks   marks
	pending map[string]struct{} // keys of marked calls not (yet) loaded, re-marked when they arrive

	names     map[string]string // extension → user name, from Source.Users
	pageSize  int               // > 0: the view is shown in local pages of this many rows
	emptyText string

	// viewShared is set once Rows has handed the view out: it may be read from a Cmd's goroutine, so it is
	// never written again; the next change builds a new slice.
	viewShared bool

	// sel is the record under the cursor as Selected last built it (row selIdx of this store): the same
	// pointer while the cursor stays on the call, so the root can tell a new selection by it.
	sel    *cdr.Record
	selIdx int32
	rec    cdr.Record // View's scratch

	width, height int
	layout        []cell
	sgr           *codes
}

// New returns an empty table sorted by start time, newest first.
func New(ctx *common.Context) *Model {
	m := &Model{ctx: ctx, Keys: DefaultKeyMap(), st: &store{}, selIdx: -1, pinned: true}
	m.srt.st = m.st
	m.srt.col, m.srt.desc = ColStart, true
	return m
}

// SetSize sets the table's outer size: one header line plus height-1 rows.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.layout = computeLayout(w)
	m.clampOffset()
}

// SetNames gives the extension → name map shown beside extensions when a record carries no friendly name.
func (m *Model) SetNames(names map[string]string) { m.names = names }

// SetEmptyText is what the table says when no row is shown.
func (m *Model) SetEmptyText(s string) { m.emptyText = s }

// Loaded is the number of loaded rows; Shown the number passing the filter.
func (m *Model) Loaded() int { return m.st.len() }
func (m *Model) Shown() int  { return len(m.view) }

// Record is loaded row i (0 ≤ i < Loaded) in arrival order.
func (m *Model) Record(i int) cdr.Record { return m.st.record(int32(i)) }

// Newest is the latest start time among the loaded calls; false when none has one.
func (m *Model) Newest() (time.Time, bool) {
	best := int32(-1)
	var bestN int64 = math.MinInt64
	for i := range int32(m.st.len()) {
		if n := m.st.startNanos(i); n > bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return time.Time{}, false
	}
	return m.st.record(best).Start, true
}

// Cursor is the cursor's index into the shown rows.
func (m *Model) Cursor() int { return m.cursor }

// KeysStartingAt is the set of Keys of the loaded calls that started at t.
func (m *Model) KeysStartingAt(t time.Time) map[string]bool {
	out := map[string]bool{}
	if t.IsZero() {
		return out
	}
	n := t.UnixNano()
	for i := range int32(m.st.len()) {
		if m.st.startNanos(i) == n {
			out[m.st.key(i)] = true
		}
	}
	return out
}

// Selected is the record under the cursor, or nil when nothing is shown.
func (m *Model) Selected() *cdr.Record {
	if m.cursor < 0 || m.cursor >= len(m.view) {
		return nil
	}
	if i := m.view[m.cursor]; i != m.selIdx || m.sel == nil {
		r := m.st.record(i)
		m.sel, m.selIdx = &r, i
	}
	return m.sel
}

// Reset drops every row (a new query). Marks are remembered by call and come back if the calls do. The cursor
// stays on the first row while the new rows stream in, until the user moves it or Unpin is called.
func (m *Model) Reset() {
	m.rememberMarks()
	// A new store rather than a cleared one: snapshots handed to Cmds keep reading the old rows.
	m.st = &store{}
	m.order, m.view = nil, nil
	m.viewShared = false
	m.srt.reset(m.st)
	m.flt.reset()
	m.sel, m.selIdx = nil, -1
	m.cursor, m.offset = 0, 0
	m.pinned = true
}

// Unpin ends keeping the cursor on the first row (the load is complete): rows that arrive later (follow mode)
// leave the cursor on its call.
func (m *Model) Unpin() { m.pinned = false }

// Staged is a set of calls fetched to replace the table's rows (a refresh), kept in the table's compact form as
// it grows. Gathered as records instead, a refresh of a million calls held three times the table's memory
// beside the table. The zero Staged is empty and ready; ReplaceStaged takes its rows.
type Staged struct{ st *store }

// Append adds a batch of calls.
func (s *Staged) Append(batch []cdr.Record) {
	if len(batch) > 0 && s.st == nil {
		s.st = &store{}
	}
	for i := range batch {
		s.st.add(&batch[i])
	}
}

// Len is the number of calls staged.
func (s *Staged) Len() int {
	if s.st == nil {
		return 0
	}
	return s.st.len()
}

// Replace swaps in a new set of rows (a refresh), keeping the cursor on the same call when it is still there.
func (m *Model) Replace(recs []cdr.Record) {
	var s Staged
	s.Append(recs)
	m.ReplaceStaged(&s)
}

// ReplaceStaged swaps in the staged rows (a refresh), keeping the cursor on the same call when it is still
// there; s is left empty.
func (m *Model) ReplaceStaged(s *Staged) {
	var sel string
	if r := m.Selected(); r != nil {
		sel = markKey(r)
	}
	row := m.cursor - m.offset
	m.Reset()
	if s.st != nil {
		m.st, s.st = s.st, nil
		m.srt.reset(m.st)
		m.admit(0)
	}
	m.pinned = false
	if sel != "" && m.SelectKey(sel) {
		m.offset = max(0, m.cursor-row)
		m.clampOffset()
	}
}

func (m *Model) rememberMarks() {
	if m.marks.count() == 0 {
		return
	}
	if m.pending == nil {
		m.pending = map[string]struct{}{}
	}
	for i := range int32(m.st.len()) {
		if m.marks.has(i) {
			m.pending[m.st.key(i)] = struct{}{}
		}
	}
	m.marks.clear()
}

// Append adds streamed rows. They are merged into the sort order and the filtered view; the cursor stays on the
// call it was on, so rows arriving above it (follow mode, newest first) do not move the selection.
func (m *Model) Append(batch []cdr.Record) {
	if len(batch) == 0 {
		return
	}
	base := m.st.len()
	for i := range batch {
		m.st.add(&batch[i])
	}
	m.admit(base)
}

// admit merges the rows from base to the end of the store into the sort order and the filtered view.
func (m *Model) admit(base int) {
	n := m.st.len()
	if n == base {
		return
	}
	m.marks.grow(n)
	if len(m.order) == 0 {
		// The first rows (a new query's first batch, a refresh): they become the order, sorted whole.
		m.order = make([]int32, n)
		m.markPending(m.order, 0)
		m.srt.sort(m.order)
		m.view = m.flt.add(make([]int32, 0, n), &m.st.snapshot, 0, m.order)
		m.viewShared = false
		if m.pinned {
			lo, _ := m.window()
			m.cursor, m.offset = lo, lo
		}
		m.clampOffset()
		return
	}
	// A streamed batch: sorted on its own, then merged in.
	idx := grow(m.batch, n-base)
	m.batch = idx
	m.markPending(idx, base)
	m.srt.sort(idx)
	m.order, _ = m.srt.insertSorted(m.order, idx, 0)
	shown := m.flt.add(m.shown[:0], &m.st.snapshot, base, idx)
	m.shown = shown
	if m.viewShared {
		m.view = slices.Clip(m.view)
		m.viewShared = false
	}
	hadRows := len(m.view) > 0
	var before int
	m.view, before = m.srt.insertSorted(m.view, shown, m.cursor)
	switch {
	case m.pinned:
		lo, _ := m.window()
		m.cursor, m.offset = lo, lo
	case hadRows:
		// The selected call stays selected, on the same screen row.
		m.cursor += before
		m.offset += before
	}
	m.clampOffset()
}

// markPending fills idx with the row numbers from base and marks those of calls marked before a reload.
func (m *Model) markPending(idx []int32, base int) {
	for j := range idx {
		i := int32(base + j)
		idx[j] = i
		if len(m.pending) > 0 {
			k := m.st.key(i)
			if _, ok := m.pending[k]; ok {
				m.marks.set(i, true)
				delete(m.pending, k)
			}
		}
	}
}

// SetFilter shows only the rows f passes (nil shows all), deciding them in their compact form. The cursor stays
// on its call if the call is still shown.
func (m *Model) SetFilter(f *filter.Compiled) {
	m.flt.set(f, &m.st.snapshot)
	m.rebuildView()
}

// SetSort orders the rows by col, descending when desc; ties keep arrival order.
func (m *Model) SetSort(col Column, desc bool) {
	m.srt.col, m.srt.desc = col, desc
	m.srt.sort(m.order)
	m.rebuildView()
}

func (m *Model) rebuildView() {
	sel := int32(-1)
	if m.cursor < len(m.view) {
		sel = m.view[m.cursor]
	}
	row := m.cursor - m.offset
	dst := m.view[:0]
	if m.viewShared {
		// The old view may still be read on a Cmd's goroutine: a new one, of the size it needs.
		dst, m.viewShared = make([]int32, 0, m.flt.count(len(m.order))), false
	}
	m.view = m.flt.pick(dst, m.order)
	m.cursor = 0
	if sel >= 0 {
		if p := slices.Index(m.view, sel); p >= 0 {
			m.cursor = p
		}
	}
	m.offset = max(0, m.cursor-row)
	m.clampOffset()
}

// SelectKey moves the cursor to the shown call with this key (common.CallKey); false when it is
// not shown.
func (m *Model) SelectKey(k string) bool {
	for p, i := range m.view {
		if m.st.key(i) == k {
			m.pinned = false
			m.cursor = p // first, so a local page window moves to the call's page
			m.moveTo(p)
			return true
		}
	}
	return false
}

// IsLoaded reports whether a call with this key is loaded (shown or filtered out).
func (m *Model) IsLoaded(k string) bool {
	for i := range int32(m.st.len()) {
		if m.st.key(i) == k {
			return true
		}
	}
	return false
}

// Update handles navigation, marking, sorting and the mouse. It returns no Cmd: the root reads Selected after
// each message and broadcasts a change.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		rows := m.visibleRows()
		m.pinned = false // the user has chosen where the cursor is
		switch {
		case key.Matches(msg, m.Keys.LineUp):
			m.moveTo(m.cursor - 1)
		case key.Matches(msg, m.Keys.LineDown):
			m.moveTo(m.cursor + 1)
		case key.Matches(msg, m.Keys.PageUp):
			m.moveTo(m.cursor - rows)
		case key.Matches(msg, m.Keys.PageDown):
			m.moveTo(m.cursor + rows)
		case key.Matches(msg, m.Keys.HalfPageUp):
			m.moveTo(m.cursor - rows/2)
		case key.Matches(msg, m.Keys.HalfPageDown):
			m.moveTo(m.cursor + rows/2)
		case key.Matches(msg, m.Keys.GotoTop):
			lo, _ := m.window()
			m.moveTo(lo)
		case key.Matches(msg, m.Keys.GotoBottom):
			_, hi := m.window()
			m.moveTo(hi - 1)
		case key.Matches(msg, m.Keys.Mark):
			if m.cursor < len(m.view) {
				i := m.view[m.cursor]
				m.marks.set(i, !m.marks.has(i))
				m.moveTo(m.cursor + 1)
			}
		case key.Matches(msg, m.Keys.MarkAll):
			m.MarkAllShown()
		case key.Matches(msg, m.Keys.InvertMarks):
			m.InvertShown()
		case key.Matches(msg, m.Keys.ClearMarks):
			m.ClearMarks()
		case key.Matches(msg, m.Keys.Sort):
			next := (m.srt.col + 1) % numColumns
			m.SetSort(next, defaultDesc(next))
		case key.Matches(msg, m.Keys.SortReverse):
			m.SetSort(m.srt.col, !m.srt.desc)
		}
	case tea.MouseWheelMsg:
		m.pinned = false
		switch msg.Button {
		case tea.MouseWheelUp:
			m.moveTo(m.cursor - 3)
		case tea.MouseWheelDown:
			m.moveTo(m.cursor + 3)
		}
	case tea.MouseClickMsg:
		if msg.Button == tea.MouseLeft {
			m.Click(msg.X, msg.Y)
		}
	}
	return nil
}

// Click acts on a click at (x, y) relative to the table's top-left corner: a row selects it, the header sorts
// by the column under the pointer (again to reverse).
func (m *Model) Click(x, y int) {
	m.pinned = false
	if y == 0 {
		if c, ok := m.columnAt(x); ok {
			if c == m.srt.col {
				m.SetSort(c, !m.srt.desc)
			} else {
				m.SetSort(c, defaultDesc(c))
			}
		}
		return
	}
	p := m.offset + y - 1
	if _, hi := m.window(); p < hi {
		m.moveTo(p)
	}
}

// MarkAllShown marks every shown row (every row of the current page when paging locally).
func (m *Model) MarkAllShown() {
	lo, hi := m.window()
	for _, i := range m.view[lo:hi] {
		m.marks.set(i, true)
	}
}

// InvertShown flips the mark of every shown row.
func (m *Model) InvertShown() {
	lo, hi := m.window()
	for _, i := range m.view[lo:hi] {
		m.marks.set(i, !m.marks.has(i))
	}
}

// ClearMarks unmarks everything, loaded or remembered.
func (m *Model) ClearMarks() {
	m.marks.clear()
	m.pending = nil
}

// Marked is the number of marked loaded rows.
func (m *Model) Marked() int { return m.marks.count() }

// Rows is the shown rows in display order, as a view (no copy).
func (m *Model) Rows() common.Rows {
	m.viewShared = true
	return rowsView{m.st.snapshot, m.view}
}

// MarkedRows is the marked loaded rows in display order (marked rows hidden by a filter included).
func (m *Model) MarkedRows() common.Rows {
	out := make([]int32, 0, m.marks.count())
	for _, i := range m.order {
		if m.marks.has(i) {
			out = append(out, i)
		}
	}
	return rowsView{m.st.snapshot, out}
}

// rowsView is a list of rows over a snapshot of the store, safe to read on a Cmd's goroutine.
type rowsView struct {
	st  snapshot
	idx []int32
}

func (v rowsView) Len() int            { return len(v.idx) }
func (v rowsView) At(i int) cdr.Record { return v.st.record(v.idx[i]) }

// SetPageSize shows the view in local pages of n rows (0 turns local paging off), for sources the PBX does not
// page itself.
func (m *Model) SetPageSize(n int) {
	m.pageSize = max(0, n)
	m.moveTo(m.cursor)
}

// Page is the local page holding the cursor and the number of pages (1-based; 0, 0 when not paging locally).
func (m *Model) Page() (page, pages int) {
	if m.pageSize == 0 {
		return 0, 0
	}
	pages = max(1, (len(m.view)+m.pageSize-1)/m.pageSize)
	return m.cursor/m.pageSize + 1, pages
}

// SetPage moves to local page p (1-based, clamped).
func (m *Model) SetPage(p int) {
	if m.pageSize == 0 {
		return
	}
	_, pages := m.Page()
	p = min(max(p, 1), pages)
	m.pinned = false
	m.cursor = (p - 1) * m.pageSize
	m.offset = m.cursor
	m.moveTo(m.cursor)
}

// window is the range of view positions the cursor may take: all of them, or the current local page.
func (m *Model) window() (lo, hi int) {
	if m.pageSize == 0 || len(m.view) == 0 {
		return 0, len(m.view)
	}
	lo = min(m.cursor, len(m.view)-1) / m.pageSize * m.pageSize
	return lo, min(lo+m.pageSize, len(m.view))
}

func (m *Model) visibleRows() int { return max(1, m.height-1) }

func (m *Model) moveTo(p int) {
	lo, hi := m.window()
	if hi == 0 {
		m.cursor, m.offset = 0, 0
		return
	}
	m.cursor = min(max(p, lo), hi-1)
	m.clampOffset()
}

// clampOffset keeps the cursor on screen and the screen inside the window.
func (m *Model) clampOffset() {
	rows := m.visibleRows()
	lo, hi := m.window()
	if m.cursor >= len(m.view) {
		m.cursor = max(0, len(m.view)-1)
		lo, hi = m.window()
	}
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+rows {
		m.offset = m.cursor - rows + 1
	}
	m.offset = max(lo, min(m.offset, max(lo, hi-rows)))
}

// ShortHelp and FullHelp implement help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.Keys.LineUp, m.Keys.LineDown, m.Keys.Mark}
}

func (m *Model) FullHelp() [][]key.Binding {
	k := m.Keys
	return [][]key.Binding{
		{k.LineUp, k.LineDown, k.PageUp, k.PageDown, k.HalfPageUp, k.HalfPageDown, k.GotoTop, k.GotoBottom},
		{k.Mark, k.MarkAll, k.InvertMarks, k.ClearMarks, k.Sort, k.SortReverse},
	}
}

// defaultDesc is the first direction a column sorts in: newest, longest and recorded first; words A to Z.
func defaultDesc(c Column) bool {
	switch c {
	case ColStart, ColDuration, ColBillable, ColRecording:
		return true
	}
	return false
}
