package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/calltable"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/statusbar"
)

// preset is a named time range the user loads with one key.
type preset int

const (
	presetToday preset = iota
	presetYesterday
	presetWeek
	presetMonth
)

// PBXClock is what a source implements when it knows the PBX's own clock (the Date header of its answers): the
// PBX is the source of truth, so "today" is then the PBX's today even when this machine's clock is wrong.
type PBXClock interface {
	PBXClock() (now time.Time, ok bool)
}

// wallNow is the PBX's wall clock now, read as UTC as every Query time is: the PBX's clock when the source knows
// it, else this machine's instant, placed in the PBX's zone when that is known (zoneKnown), in this machine's
// zone until then.
func (m *Model) wallNow() (now time.Time, zoneKnown bool) {
	t := m.ctx.Now()
	if m.src == nil {
		return cdr.WallClock(t), false
	}
	if c, ok := m.src.(PBXClock); ok {
		if pt, ok := c.PBXClock(); ok && !pt.IsZero() {
			t = pt
		}
	}
	if zi := m.src.Zone(); zi.Location != nil {
		return cdr.WallClock(t.In(zi.Location)), true
	}
	return cdr.WallClock(t), false
}

// pbxZoneNote is "PBX time Africa/Johannesburg" when the PBX's zone is known and differs from this machine's
// (the zone of the clock's readings), so a "today" that is not the workstation's today explains itself.
func (m *Model) pbxZoneNote() string {
	if m.src == nil {
		return ""
	}
	zi := m.src.Zone()
	if zi.Location == nil {
		return ""
	}
	now := m.ctx.Now()
	_, mine := now.Zone()
	_, theirs := now.In(zi.Location).Zone()
	if mine == theirs {
		return ""
	}
	return "PBX time " + zi.Location.String()
}

func midnight(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

// presetRange is the [from, to) of a preset and how the status bar names it, in the PBX's days.
func (m *Model) presetRange(p preset) (from, to time.Time, label string) {
	now, _ := m.wallNow()
	today := midnight(now)
	switch p {
	case presetYesterday:
		from, to = today.AddDate(0, 0, -1), today
		return from, to, "yesterday " + from.Format("2006-01-02")
	case presetWeek:
		from, to = today.AddDate(0, 0, -6), today.AddDate(0, 0, 1)
		return from, to, "last 7 days " + from.Format("01-02") + " → " + today.Format("01-02")
	case presetMonth:
		from = time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
		return from, today.AddDate(0, 0, 1), "this month " + from.Format("January 2006")
	}
	return today, today.AddDate(0, 0, 1), "today " + today.Format("2006-01-02")
}

func presetName(p preset) string {
	return [...]string{"today", "yesterday", "the last 7 days", "this month"}[p]
}

// loadPreset loads a preset range; it leaves page mode and local paging. When the PBX's zone is not known yet
// (inferred from the first rows), the range is measured again once it is, and loaded again if the PBX's day
// turns out to be another.
func (m *Model) loadPreset(p preset) tea.Cmd {
	from, to, label := m.presetRange(p)
	cmd := m.load(cdr.Query{From: from, To: to}, label)
	if m.src != nil {
		_, known := m.wallNow()
		m.fetch.preset, m.fetch.zoneKnown = p, known
	}
	return cmd
}

// presetMoved reports whether a preset load measured before the PBX's zone was known asked for the wrong days,
// now that the first rows have settled the zone.
func (m *Model) presetMoved(s *stream) bool {
	if s.kind != fetchLoad || s.preset < 0 || s.zoneKnown {
		return false
	}
	if _, known := m.wallNow(); !known {
		return false
	}
	s.zoneKnown = true
	from, to, _ := m.presetRange(s.preset)
	return !from.Equal(s.q.From) || !to.Equal(s.q.To)
}

// describeQuery names a query for the status bar: "2024-03-01", "2024-03-01 → 2024-03-07", "2024-03-01 09:00 →
// 2024-03-01 17:30", "page 3", "since 2024-03-01".
func describeQuery(q cdr.Query) string {
	if q.Page > 0 {
		return fmt.Sprintf("page %d", q.Page)
	}
	day := func(t time.Time) bool { return t.Equal(midnight(t)) }
	f, t := cdr.WallClock(q.From), cdr.WallClock(q.To)
	switch {
	case f.IsZero() && t.IsZero():
		return "all calls"
	case t.IsZero():
		return "since " + stamp(f)
	case f.IsZero():
		return "until " + stamp(t)
	case day(f) && day(t):
		last := t.AddDate(0, 0, -1)
		if !last.After(f) {
			return f.Format("2006-01-02")
		}
		return f.Format("2006-01-02") + " → " + last.Format("2006-01-02")
	}
	return stamp(f) + " → " + stamp(t)
}

func stamp(t time.Time) string {
	if t.Equal(midnight(t)) {
		return t.Format("2006-01-02")
	}
	if t.Second() != 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

// load starts fetching a new range or page. The rows on screen stay until the first new ones arrive, so a fetch
// that fails at once leaves them in place.
func (m *Model) load(q cdr.Query, label string) tea.Cmd {
	if q.Page == 0 {
		m.table.SetPageSize(0) // a new range starts unpaged; ] pages it again
	}
	return m.startFetch(fetchLoad, q, label)
}

// refresh fetches what is loaded again and swaps it in when complete; marks and the cursor's call are kept.
func (m *Model) refresh() tea.Cmd {
	if isZeroQuery(m.query) {
		return m.loadPreset(presetToday)
	}
	return m.startFetch(fetchRefresh, m.query, m.rangeLabel)
}

// serverExtension is the extension to ask the PBX to filter by: one extension chosen on a PBX that can.
func (m *Model) serverExtension() string {
	if m.caps.ServerExtension && len(m.filters.Extensions) == 1 {
		return m.filters.Extensions[0]
	}
	return ""
}

func (m *Model) startFetch(kind fetchKind, q cdr.Query, label string) tea.Cmd {
	if m.src == nil {
		return common.Error(errors.New("no PBX configured: run callscope with --demo or set up a profile"))
	}
	if m.fetch != nil {
		m.fetch.cancel()
	}
	m.tag++
	q.Extended = m.caps.Extended
	q.OnWarn, q.OnProgress = nil, nil
	if kind != fetchFollow {
		q.Extension = m.serverExtension()
	}
	if q.Page > 0 && q.Limit <= 0 {
		q.Limit = m.pageSize
	}
	s, ctx := newStream(m.tag, kind, q)
	s.label = label
	m.fetch = s
	m.loadedN = 0
	m.fetchFirst = true
	m.shadow = calltable.Staged{}
	m.o.Log.Printf("fetch %d (%v): %s", s.tag, kind, describeQuery(q))
	return tea.Batch(s.start(ctx, m.src), m.startSpinner())
}

func (m *Model) startSpinner() tea.Cmd {
	if m.spinning || m.fetch == nil || m.fetch.kind == fetchFollow {
		return nil
	}
	m.spinning = true
	return m.spin.Tick
}

// cancelFetch stops the running fetch; the rows it brought stay.
func (m *Model) cancelFetch() tea.Cmd {
	s := m.fetch
	if s == nil {
		return nil
	}
	s.cancel()
	m.fetch = nil
	if s.kind == fetchFollow {
		return m.afterFetch()
	}
	m.table.Unpin()
	return tea.Batch(common.Status(fmt.Sprintf("fetch cancelled; %s rows kept", statusbar.Count(m.table.Loaded()))), m.afterFetch())
}

// handleBatch takes streamed rows of the running fetch; rows of any other fetch are dropped.
func (m *Model) handleBatch(msg batchMsg) tea.Cmd {
	s := msg.s
	if s != m.fetch {
		return nil
	}
	if m.presetMoved(s) {
		// The PBX's day is not this machine's: load the PBX's instead (the rows on screen stay until it answers).
		s.cancel()
		p := s.preset
		from, _, label := m.presetRange(p)
		m.o.Log.Printf("the PBX's zone is %v: %s is %s", m.src.Zone(), presetName(p), from.Format("2006-01-02"))
		return tea.Batch(common.Status("the PBX's "+label+" ("+m.src.Zone().Location.String()+")"), m.loadPreset(p))
	}
	m.loadedN += len(msg.rows)
	switch s.kind {
	case fetchLoad:
		if m.fetchFirst {
			m.fetchFirst = false
			m.table.Reset()
			m.query, m.rangeLabel = s.q, s.label
		}
		m.table.Append(msg.rows)
		m.selectPending()
		m.rowsDirty = true
	case fetchRefresh:
		m.shadow.Append(msg.rows)
	case fetchFollow:
		if m.query.Page > 0 {
			m.shadow.Append(msg.rows)
			break
		}
		fresh := m.dedupe(msg.rows)
		if len(fresh) > 0 {
			m.table.Append(fresh)
			m.followNew += len(fresh)
			m.rowsDirty = true
		}
	}
	return s.next()
}

// handleDone finishes the running fetch: a failure keeps the rows on screen and says why.
func (m *Model) handleDone(msg doneMsg) tea.Cmd {
	s := msg.s
	if s != m.fetch {
		return nil
	}
	m.fetch = nil
	if s.kind == fetchLoad {
		m.table.Unpin() // calls that arrive later (follow) leave the cursor where it is
		m.loadFailed = msg.err != nil && m.fetchFirst && !errors.Is(msg.err, context.Canceled)
	}
	var cmds []tea.Cmd
	if msg.err != nil {
		switch {
		case s.kind == fetchLoad && !m.fetchFirst:
			// The rows before the failure are what the user now sees: they belong to the new query.
		case s.kind == fetchRefresh:
			m.shadow = calltable.Staged{}
		}
		if err := describeFetchError(msg.err, m.table.Loaded()); err != nil {
			m.o.Log.Printf("fetch %d failed: %v", s.tag, msg.err)
			cmds = append(cmds, common.Error(err))
		}
		if m.pendingSel != "" && s.kind == fetchLoad {
			m.selectPendingRecord()
		}
		return tea.Batch(append(cmds, m.afterFetch())...)
	}
	switch s.kind {
	case fetchLoad:
		if m.fetchFirst { // an empty answer: the new range has no calls
			m.table.Reset()
			m.query, m.rangeLabel = s.q, s.label
			m.rowsDirty = true
		}
	case fetchRefresh:
		m.table.ReplaceStaged(&m.shadow)
		m.shadow = calltable.Staged{}
		m.query = s.q // the same range, perhaps with another server-side extension
		m.rowsDirty = true
	case fetchFollow:
		if m.query.Page > 0 {
			m.table.ReplaceStaged(&m.shadow)
			m.shadow = calltable.Staged{}
			m.rowsDirty = true
		}
	}
	if s.q.Page > 0 {
		m.totalPages = msg.res.TotalPages
		if msg.res.Page > 0 {
			m.query.Page = msg.res.Page
		}
	}
	if m.pendingSel != "" {
		m.selectPendingRecord()
	}
	note := ""
	switch s.kind {
	case fetchLoad:
		note = fmt.Sprintf("loaded %s calls", statusbar.Count(msg.res.Rows))
	case fetchRefresh:
		note = fmt.Sprintf("refreshed: %s calls", statusbar.Count(m.table.Loaded()))
	case fetchFollow:
		if m.followNew > 0 {
			note = fmt.Sprintf("%d new calls", m.followNew)
		}
		m.followNew = 0
	}
	if msg.warns > 0 {
		w := fmt.Sprintf("%d malformed rows skipped", msg.warns)
		if msg.lastWarn != nil {
			w += " (last: " + firstLine(msg.lastWarn.Error()) + ")"
		}
		if note != "" {
			note += "; "
		}
		note += w
	}
	if note != "" {
		cmds = append(cmds, common.Status(note))
	}
	return tea.Batch(append(cmds, m.afterFetch())...)
}

// afterFetch keeps the follow loop going once a fetch is over.
func (m *Model) afterFetch() tea.Cmd {
	if m.follow {
		return m.scheduleFollow()
	}
	return nil
}

// scheduleFollow arms the next poll; only the newest armed poll fires.
func (m *Model) scheduleFollow() tea.Cmd {
	m.followGen++
	return followAfter(m.followGen)
}

// poll fetches the calls since the newest loaded one (or the current page again, for paged sources).
func (m *Model) poll() tea.Cmd {
	if m.query.Page > 0 {
		return m.startFetch(fetchFollow, m.query, m.rangeLabel)
	}
	q := m.query
	if newest, ok := m.newest(); ok {
		q.From = cdr.WallClock(newest)
	}
	return m.startFetch(fetchFollow, q, m.rangeLabel)
}

// newest is the latest start time among the loaded calls.
func (m *Model) newest() (time.Time, bool) { return m.table.Newest() }

// dedupe drops polled rows already loaded. A poll asks from the newest start time inclusive, so only calls that
// started at that very second can be loaded already.
func (m *Model) dedupe(rows []cdr.Record) []cdr.Record {
	newest, ok := m.newest()
	if !ok {
		return rows
	}
	seen := m.table.KeysStartingAt(newest)
	out := rows[:0:0]
	for i := range rows {
		if rows[i].Start.Before(newest) || seen[calltable.Key(&rows[i])] {
			continue
		}
		out = append(out, rows[i])
	}
	return out
}

// selectPending puts the cursor on the call asked for with --id once it has streamed in.
func (m *Model) selectPending() {
	if m.pendingSel != "" && m.table.SelectKey(m.pendingSel) {
		m.pendingSel, m.pendingRec = "", nil
	}
}

// selectPendingRecord is the fallback when the call's day did not list it: add it and select it.
func (m *Model) selectPendingRecord() {
	m.selectPending()
	if m.pendingSel == "" || m.pendingRec == nil {
		return
	}
	m.showCall(*m.pendingRec)
	m.pendingSel, m.pendingRec = "", nil
}

// showCall selects a call fetched by go-to: where it is loaded, else added to the table. A filter hiding it is
// cleared.
func (m *Model) showCall(rec cdr.Record) tea.Cmd {
	k := calltable.Key(&rec)
	if m.table.SelectKey(k) {
		// Replaces the "fetching …" note: a status line never outlives what it describes.
		return common.Status("on call " + lookupName(rec) + ": enter plays it")
	}
	var cmd tea.Cmd
	if m.table.IsLoaded(k) {
		m.filters = m.filters.WithoutSearch()
		m.filters.Extensions, m.filters.Types, m.filters.Dispositions, m.filters.MinDuration = nil, 0, 0, 0
		m.applyFilters()
		cmd = common.Status("filters cleared to show call " + rec.UniqueID)
	} else {
		m.table.Append([]cdr.Record{rec})
		m.rowsDirty = true
		if !m.table.SelectKey(k) { // hidden by the filters
			m.filters = filterZero()
			m.applyFilters()
			m.table.SelectKey(k)
		}
		cmd = common.Status("call " + lookupName(rec) + " is outside the loaded range: added to the list")
	}
	return cmd
}

func lookupName(r cdr.Record) string {
	if r.UniqueID != "" {
		return r.UniqueID
	}
	return r.Start.Format("2006-01-02 15:04:05")
}

// handleGoto takes the answer to a go-to-call request.
func (m *Model) handleGoto(msg gotoMsg) tea.Cmd {
	if msg.tag != m.gotoTag {
		return nil
	}
	if msg.err != nil {
		err := fmt.Errorf("cannot go to %s: %w", msg.lookup, msg.err)
		if msg.startup {
			// Open on today anyway, so the app is useful while the user checks the ID; the error stays on
			// screen until dismissed, whatever the load says after it.
			return tea.Batch(common.StickyError(err), m.loadPreset(presetToday))
		}
		return common.Error(err)
	}
	rec := msg.rec
	if msg.startup {
		// Load the call's whole day and put the cursor on it when it streams in.
		day := midnight(cdr.WallClock(rec.Start))
		m.pendingSel, m.pendingRec = calltable.Key(&rec), &rec
		return tea.Batch(common.Status("opened on call "+lookupName(rec)+": enter plays it"),
			m.load(cdr.Query{From: day, To: day.AddDate(0, 0, 1)}, day.Format("2006-01-02")))
	}
	if m.fetch != nil && m.fetch.kind == fetchLoad {
		// The rows on screen are about to be replaced: select the call once the new ones are in.
		m.pendingSel, m.pendingRec = calltable.Key(&rec), &rec
		return nil
	}
	return m.showCall(rec)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
