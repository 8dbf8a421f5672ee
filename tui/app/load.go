package app

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/human"
	"github.com/callscope/callscope/tui/calltable"
	"github.com/callscope/callscope/tui/common"
)

// errNoSource is what every fetch says when the app was started without a PBX.
var errNoSource = errors.New("no PBX configured: run callscope with --demo or set up a profile")

// preset is a named time range the user loads with one key.
type preset int

const (
	presetToday preset = iota
	presetYesterday
	presetWeek
	presetMonth
)

// loader fetches calls into the table: a range or one of the PBX's pages (load), the same again (refresh), the
// calls since the newest loaded one (follow) and one call by ID or start time (go-to). It owns what is loaded
// (the query and its name), the fetch in flight, the follow loop and paging, as gh-dash's section fetcher owns
// a section's. Every fetch is tagged; the answer to an older one is dropped. The root routes the loader's
// messages to update and reads what it reports (busy, rangeText, emptyText) when it draws.
type loader struct {
	src   cdr.Source // nil when the app has no PBX
	caps  cdr.Capabilities
	table *calltable.Model
	log   *log.Logger
	now   func() time.Time
	// unfilter clears the root's filters, so the table shows every loaded call: a call asked for by ID is
	// shown even when a filter hid it.
	unfilter func()

	query     cdr.Query // what is loaded: a range, or a page
	label     string    // how the status bar names query
	fetch     *stream   // the fetch in flight, nil for none
	first     bool      // the running load has not yet replaced the rows on screen
	failed    bool      // the last load failed before any row arrived
	tag       int
	received  int              // rows received by the running fetch
	shadow    calltable.Staged // a refresh's rows, kept compact, swapped in when complete
	extension string           // the extension the PBX filters by ("" for all); the root's filters choose it

	follow    bool
	followGen int // only the newest armed poll fires
	followNew int // calls the running poll added

	pageSize   int
	totalPages int // the PBX's, when it says; 0 when unknown

	pending *cdr.Record // the call asked for (--id, `:`): selected when its rows arrive, added if they lack it
	gotoTag int

	// openNewest: the app opened on today without being told a range, on an archive. Should today hold no
	// call, it opens on the day of the archive's newest call instead: an archive is what was synced, and
	// "today" is often after its last sync.
	openNewest bool

	changed bool // the rows changed since the root last asked (rowsChanged)
}

func newLoader(src cdr.Source, table *calltable.Model, lg *log.Logger, now func() time.Time) *loader {
	l := &loader{src: src, table: table, log: lg, now: now, pageSize: 100, unfilter: func() {}}
	if src != nil {
		l.caps = src.Capabilities()
	}
	return l
}

// busy reports whether a fetch the user waits for runs (a follow poll does not count) and how many rows it has
// brought so far.
func (l *loader) busy() (bool, int) {
	return l.fetch != nil && l.fetch.kind != fetchFollow, l.received
}

// rowsChanged reports whether the rows changed since the last call.
func (l *loader) rowsChanged() bool {
	c := l.changed
	l.changed = false
	return c
}

// update takes the loader's own messages; ok is false for any other message.
func (l *loader) update(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	switch msg := msg.(type) {
	case batchMsg:
		return l.handleBatch(msg), true
	case doneMsg:
		return l.handleDone(msg), true
	case gotoMsg:
		return l.handleGoto(msg), true
	case newestMsg:
		return l.handleNewest(msg), true
	case followTick:
		if !l.follow || msg.gen != l.followGen {
			return nil, true
		}
		if l.fetch != nil {
			return l.scheduleFollow(), true // the user's fetch first; poll after it
		}
		return l.poll(), true
	}
	return nil, false
}

// start is the first fetch: the call to open on (startup lookup) and the initial range; today when none is
// given. A lookup without a range loads the call's day once its answer says which day that is.
func (l *loader) start(initial cdr.Query, open cdr.Lookup) tea.Cmd {
	var cmds []tea.Cmd
	rangeGiven := !initial.From.IsZero() || initial.Page != 0
	if !open.IsZero() {
		cmds = append(cmds, l.gotoCall(open, !rangeGiven))
		if !rangeGiven {
			return tea.Batch(cmds...)
		}
	}
	if isZeroQuery(initial) {
		l.openNewest = open.IsZero() && l.caps.Kind == cdr.KindArchive && l.caps.Pages
		return tea.Batch(append(cmds, l.loadPreset(presetToday))...)
	}
	return tea.Batch(append(cmds, l.load(initial, describeQuery(initial)))...)
}

// wallNow is the PBX's wall clock now, read as UTC as every Query time is: the PBX's clock when the source knows
// it (cdr.Clock: the PBX is the source of truth, so "today" is the PBX's today even when this machine's clock is
// wrong), else this machine's instant; placed in the PBX's zone when that is known (zoneKnown), in this
// machine's zone until then.
func (l *loader) wallNow() (now time.Time, zoneKnown bool) {
	t := l.now()
	if l.src == nil {
		return cdr.WallClock(t), false
	}
	if pt, ok := cdr.PBXClockOf(l.src); ok {
		t = pt
	}
	if zi := l.src.Zone(); zi.Location != nil {
		return cdr.WallClock(t.In(zi.Location)), true
	}
	return cdr.WallClock(t), false
}

// clockKnown says whether the source knows the PBX's clock yet: a PBX tells it with its first answer.
func (l *loader) clockKnown() bool {
	_, ok := cdr.PBXClockOf(l.src)
	return ok
}

// pbxZoneNote is "PBX time Africa/Johannesburg" when the PBX's zone is known and differs from this machine's
// (the zone of the clock's readings), so a "today" that is not the workstation's today explains itself.
func (l *loader) pbxZoneNote() string {
	if l.src == nil {
		return ""
	}
	zi := l.src.Zone()
	if zi.Location == nil {
		return ""
	}
	now := l.now()
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
func (l *loader) presetRange(p preset) (from, to time.Time, label string) {
	now, _ := l.wallNow()
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
func (l *loader) loadPreset(p preset) tea.Cmd {
	from, to, label := l.presetRange(p)
	cmd := l.load(cdr.Query{From: from, To: to}, label)
	if l.fetch != nil {
		_, known := l.wallNow()
		l.fetch.preset, l.fetch.zoneKnown, l.fetch.clockKnown = p, known, l.clockKnown()
	}
	return cmd
}

// presetMoved reports whether a preset load measured before the PBX's zone or clock was known asked for the
// wrong days, now that the PBX's answer has told them (its Date header, its first rows).
func (l *loader) presetMoved(s *stream) bool {
	if s.kind != fetchLoad || s.preset < 0 || (s.zoneKnown && s.clockKnown) {
		return false
	}
	_, zoneKnown := l.wallNow()
	clockKnown := l.clockKnown()
	if zoneKnown == s.zoneKnown && clockKnown == s.clockKnown {
		return false
	}
	s.zoneKnown, s.clockKnown = zoneKnown, clockKnown
	from, to, _ := l.presetRange(s.preset)
	return !from.Equal(s.q.From) || !to.Equal(s.q.To)
}

// reloadPreset loads the preset of a load that asked for the wrong days (presetMoved): the PBX's day is not
// this machine's. The rows on screen stay until it answers.
func (l *loader) reloadPreset(s *stream) tea.Cmd {
	s.cancel()
	p := s.preset
	from, _, label := l.presetRange(p)
	why := "by its clock"
	if loc := l.src.Zone().Location; loc != nil {
		why = loc.String()
	}
	l.log.Printf("the PBX's zone is %v and its clock says %v: %s is %s", l.src.Zone(), l.pbxClockText(), presetName(p),
		from.Format("2006-01-02"))
	return tea.Batch(common.Status("the PBX's "+label+" ("+why+")"), l.loadPreset(p))
}

// pbxClockText is the PBX's clock for the debug log, or "nothing" before it is known.
func (l *loader) pbxClockText() string {
	if t, ok := cdr.PBXClockOf(l.src); ok {
		return t.Format(time.RFC3339)
	}
	return "nothing"
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

func isZeroQuery(q cdr.Query) bool { return q.From.IsZero() && q.To.IsZero() && q.Page == 0 }

// load starts fetching a new range or page. The rows on screen stay until the first new ones arrive, so a fetch
// that fails at once leaves them in place.
func (l *loader) load(q cdr.Query, label string) tea.Cmd {
	if q.Page == 0 {
		l.table.SetPageSize(0) // a new range starts unpaged; ] pages it again
	}
	return l.startFetch(fetchLoad, q, label)
}

// refresh fetches what is loaded again and swaps it in when complete; marks and the cursor's call are kept.
func (l *loader) refresh() tea.Cmd {
	if isZeroQuery(l.query) {
		return l.loadPreset(presetToday)
	}
	return l.startFetch(fetchRefresh, l.query, l.label)
}

// filterBy sets the extensions the user filters by. A PBX that filters by one extension itself (Difuse) is asked
// for only that extension's calls from the next fetch on; refetch fetches again now when that changed what the
// loaded rows should be.
func (l *loader) filterBy(exts []string, refetch bool) tea.Cmd {
	l.extension = ""
	if l.caps.ServerExtension && len(exts) == 1 {
		l.extension = exts[0]
	}
	if !refetch || !l.caps.ServerExtension || isZeroQuery(l.query) || l.extension == l.query.Extension {
		return nil
	}
	return l.startFetch(fetchRefresh, l.query, l.label)
}

func (l *loader) startFetch(kind fetchKind, q cdr.Query, label string) tea.Cmd {
	if l.src == nil {
		return common.Error(errNoSource)
	}
	if l.fetch != nil {
		l.fetch.cancel()
	}
	l.tag++
	q.Extended = l.caps.Extended
	if kind != fetchFollow {
		q.Extension = l.extension
	}
	if q.Page > 0 && q.Limit <= 0 {
		q.Limit = l.pageSize
	}
	s, ctx := newStream(l.tag, kind, q)
	s.label = label
	l.fetch = s
	l.received = 0
	l.first = true
	l.shadow = calltable.Staged{}
	l.log.Printf("fetch %d (%v): %s", s.tag, kind, describeQuery(q))
	return s.start(ctx, l.src)
}

func (k fetchKind) String() string {
	switch k {
	case fetchRefresh:
		return "refresh"
	case fetchFollow:
		return "follow"
	}
	return "load"
}

// cancel stops the fetch the user waits for (esc); the rows it brought stay. false when there is none (a follow
// poll is not one: esc then means something else).
func (l *loader) cancel() (tea.Cmd, bool) {
	s := l.fetch
	if s == nil || s.kind == fetchFollow {
		return nil, false
	}
	s.cancel()
	l.fetch = nil
	l.table.Unpin()
	return tea.Batch(common.Status(fmt.Sprintf("fetch cancelled; %s rows kept", human.Count(int64(l.table.Loaded())))), l.afterFetch()), true
}

// stop ends every fetch and the follow loop (quit).
func (l *loader) stop() {
	if l.fetch != nil {
		l.fetch.cancel()
		l.fetch = nil
	}
	l.follow = false
}

// handleBatch takes streamed rows of the running fetch; rows of any other fetch are dropped.
func (l *loader) handleBatch(msg batchMsg) tea.Cmd {
	s := msg.s
	if s != l.fetch {
		return nil
	}
	if l.presetMoved(s) {
		return l.reloadPreset(s)
	}
	l.received += len(msg.rows)
	switch s.kind {
	case fetchLoad:
		if l.first {
			l.first = false
			l.table.Reset()
			l.query, l.label = s.q, s.label
		}
		l.table.Append(msg.rows)
		l.selectPending()
		l.changed = true
	case fetchRefresh:
		l.shadow.Append(msg.rows)
	case fetchFollow:
		if l.query.Page > 0 {
			l.shadow.Append(msg.rows)
			break
		}
		fresh := l.dedupe(msg.rows)
		if len(fresh) > 0 {
			l.table.Append(fresh)
			l.followNew += len(fresh)
			l.changed = true
		}
	}
	return s.next()
}

// handleDone finishes the running fetch: a failure keeps the rows on screen and says why.
func (l *loader) handleDone(msg doneMsg) tea.Cmd {
	s := msg.s
	if s != l.fetch {
		return nil
	}
	if msg.err == nil && l.presetMoved(s) {
		// An answer without rows (this machine's today, on a PBX whose clock is elsewhere) still told the clock.
		return l.reloadPreset(s)
	}
	l.fetch = nil
	if s.kind == fetchLoad {
		l.table.Unpin() // calls that arrive later (follow) leave the cursor where it is
		l.failed = msg.err != nil && l.first && !errors.Is(msg.err, context.Canceled)
	}
	var cmds []tea.Cmd
	if msg.err != nil {
		switch {
		case s.kind == fetchLoad && !l.first:
			// The rows before the failure are what the user now sees: they belong to the new query.
		case s.kind == fetchRefresh:
			l.shadow = calltable.Staged{}
		}
		if err := describeFetchError(msg.err, l.table.Loaded()); err != nil {
			l.log.Printf("fetch %d failed: %v", s.tag, msg.err)
			cmds = append(cmds, common.Error(err))
		}
		if l.pending != nil && s.kind == fetchLoad {
			if note := l.selectPendingRecord(); note != "" {
				cmds = append(cmds, common.Status(note))
			}
		}
		return tea.Batch(append(cmds, l.afterFetch())...)
	}
	switch s.kind {
	case fetchLoad:
		if l.first { // an empty answer: the new range has no calls
			l.table.Reset()
			l.query, l.label = s.q, s.label
			l.changed = true
			if l.openNewest && s.preset == presetToday {
				cmds = append(cmds, findNewest(l.query, l.src))
			}
		}
		l.openNewest = false
	case fetchRefresh:
		l.table.ReplaceStaged(&l.shadow)
		l.shadow = calltable.Staged{}
		l.query = s.q // the same range, perhaps with another server-side extension
		l.changed = true
	case fetchFollow:
		if l.query.Page > 0 {
			l.table.ReplaceStaged(&l.shadow)
			l.shadow = calltable.Staged{}
			l.changed = true
		}
	}
	if s.q.Page > 0 {
		l.totalPages = msg.res.TotalPages
		if msg.res.Page > 0 {
			l.query.Page = msg.res.Page
		}
	}
	// The call asked for comes first: it is what the user is looking for.
	note := ""
	if l.pending != nil {
		note = l.selectPendingRecord()
	}
	var done string
	switch s.kind {
	case fetchLoad:
		done = fmt.Sprintf("loaded %s calls", human.Count(int64(msg.res.Rows)))
		if s.note != "" {
			done = s.note + "; " + done
		}
	case fetchRefresh:
		done = fmt.Sprintf("refreshed: %s calls", human.Count(int64(l.table.Loaded())))
	case fetchFollow:
		if l.followNew > 0 {
			done = fmt.Sprintf("%d new calls", l.followNew)
		}
		l.followNew = 0
	}
	if done != "" {
		if note != "" {
			note += "; "
		}
		note += done
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
	return tea.Batch(append(cmds, l.afterFetch())...)
}

// afterFetch keeps the follow loop going once a fetch is over.
func (l *loader) afterFetch() tea.Cmd {
	if l.follow {
		return l.scheduleFollow()
	}
	return nil
}

// scheduleFollow arms the next poll; only the newest armed poll fires.
func (l *loader) scheduleFollow() tea.Cmd {
	l.followGen++
	return followAfter(l.followGen)
}

// toggleFollow turns follow mode on (polling at once) or off (stopping a poll in flight).
func (l *loader) toggleFollow() tea.Cmd {
	l.follow = !l.follow
	if !l.follow {
		l.followGen++
		if l.fetch != nil && l.fetch.kind == fetchFollow {
			l.fetch.cancel()
			l.fetch = nil
		}
		return common.Status("follow off")
	}
	return tea.Batch(common.Status(fmt.Sprintf("following: new calls are added at the top every %s", followEvery)),
		l.poll())
}

// poll fetches the calls since the newest loaded one (or the current page again, for paged sources).
func (l *loader) poll() tea.Cmd {
	if l.query.Page > 0 {
		return l.startFetch(fetchFollow, l.query, l.label)
	}
	q := l.query
	if newest, ok := l.table.Newest(); ok {
		q.From = cdr.WallClock(newest)
	}
	return l.startFetch(fetchFollow, q, l.label)
}

// dedupe drops polled rows already loaded. A poll asks from the newest start time inclusive, so only calls that
// started at that very second can be loaded already.
func (l *loader) dedupe(rows []cdr.Record) []cdr.Record {
	newest, ok := l.table.Newest()
	if !ok {
		return rows
	}
	seen := l.table.KeysStartingAt(newest)
	out := rows[:0:0]
	for i := range rows {
		if rows[i].Start.Before(newest) || seen[common.CallKey(&rows[i])] {
			continue
		}
		out = append(out, rows[i])
	}
	return out
}

// selectPending puts the cursor on the call asked for once it has streamed in.
func (l *loader) selectPending() {
	if l.pending != nil && l.table.SelectKey(common.CallKey(l.pending)) {
		l.pending = nil
	}
}

// selectPendingRecord is the fallback when the call's day did not list it: add it and select it. It returns
// what the status bar should say about it ("" when the call was listed after all).
func (l *loader) selectPendingRecord() string {
	l.selectPending()
	if l.pending == nil {
		return ""
	}
	note := l.show(*l.pending)
	l.pending = nil
	return note
}

// show selects a call fetched by go-to: where it is loaded, else added to the table. A filter hiding it is
// cleared. It returns the status note that says what happened; it replaces the "fetching …" note, as a status
// line never outlives what it describes.
func (l *loader) show(rec cdr.Record) string {
	k := common.CallKey(&rec)
	if l.table.SelectKey(k) {
		return "on call " + rec.Ref() + ": enter plays it"
	}
	if l.table.IsLoaded(k) {
		l.unfilter()
		l.table.SelectKey(k)
		return "filters cleared to show call " + rec.Ref()
	}
	l.table.Append([]cdr.Record{rec})
	l.changed = true
	if !l.table.SelectKey(k) { // hidden by the filters
		l.unfilter()
		l.table.SelectKey(k)
	}
	return "call " + rec.Ref() + " is outside the loaded range: added to the list"
}

// gotoCall fetches one call by ID or start time to select it; at start-up (--id without a range) the call's
// whole day is loaded around it.
func (l *loader) gotoCall(lk cdr.Lookup, startup bool) tea.Cmd {
	if l.src == nil {
		return common.Error(errNoSource)
	}
	l.gotoTag++
	return fetchCall(l.gotoTag, l.src, lk, startup)
}

// handleGoto takes the answer to a go-to-call request.
func (l *loader) handleGoto(msg gotoMsg) tea.Cmd {
	if msg.tag != l.gotoTag {
		return nil
	}
	if msg.err != nil {
		err := fmt.Errorf("cannot go to %s: %w", msg.lookup, msg.err)
		if msg.startup {
			// Open on today anyway, so the app is useful while the user checks the ID; the error stays on
			// screen until dismissed, whatever the load says after it.
			return tea.Batch(common.StickyError(err), l.loadPreset(presetToday))
		}
		return common.Error(err)
	}
	rec := msg.rec
	if msg.startup {
		return tea.Batch(common.Status("opened on call "+rec.Ref()+": enter plays it"), l.loadDayOf(rec, ""))
	}
	if l.fetch != nil && l.fetch.kind == fetchLoad {
		// The rows on screen are about to be replaced: select the call once the new ones are in.
		l.pending = &rec
		return nil
	}
	return common.Status(l.show(rec))
}

// loadDayOf loads the whole day of a call and puts the cursor on the call when it streams in; the status bar
// names the range "<prefix>2026-03-10".
func (l *loader) loadDayOf(rec cdr.Record, prefix string) tea.Cmd {
	day := midnight(cdr.WallClock(rec.Start))
	l.pending = &rec
	return l.load(cdr.Query{From: day, To: day.AddDate(0, 0, 1)}, prefix+day.Format("2006-01-02"))
}

// handleNewest takes the archive's newest call, asked for when today had none at start-up, and opens on its
// day; unless the user has loaded something else meanwhile.
func (l *loader) handleNewest(msg newestMsg) tea.Cmd {
	if msg.err != nil {
		l.log.Printf("finding the archive's newest call: %v", msg.err)
	}
	if !msg.found || l.query != msg.after || (l.fetch != nil && l.fetch.kind == fetchLoad) {
		return nil // an empty archive (today's "no calls" stands), or the user's own load comes first
	}
	cmd := l.loadDayOf(msg.rec, "newest day ")
	const note = "nothing today: opened on the archive's newest day"
	l.fetch.note = note
	return tea.Batch(common.Status(note), cmd)
}

// pageBy moves d pages: the PBX's pages where it has them, else local pages over the loaded range.
func (l *loader) pageBy(d int) tea.Cmd {
	if l.caps.Pages {
		p := l.query.Page + d
		if l.query.Page == 0 {
			p = 1 // from a range into the PBX's pages
		}
		switch {
		case p < 1:
			return common.Status("already on the first page")
		case l.totalPages > 0 && p > l.totalPages:
			return common.Status(fmt.Sprintf("already on the last page (%d)", l.totalPages))
		}
		return l.gotoPage(p)
	}
	cur, n := l.table.Page()
	if n == 0 {
		l.table.SetPageSize(l.pageSize)
		cur, n = l.table.Page()
		return common.Status(fmt.Sprintf("showing the loaded calls %d per page: page %d of %d ([ ] move, Z sets the size)", l.pageSize, cur, n))
	}
	switch {
	case cur+d < 1:
		return common.Status("already on the first page")
	case cur+d > n:
		return common.Status(fmt.Sprintf("already on the last page (%d)", n))
	}
	l.table.SetPage(cur + d)
	return nil
}

// gotoPage shows page p: the PBX's, or a local page of the loaded range.
func (l *loader) gotoPage(p int) tea.Cmd {
	if l.caps.Pages {
		return l.load(cdr.Query{Page: p, Limit: l.pageSize}, fmt.Sprintf("page %d", p))
	}
	if _, n := l.table.Page(); n == 0 {
		l.table.SetPageSize(l.pageSize)
	}
	l.table.SetPage(p)
	return nil
}

// pageNow is the page shown and how many there are (0 when unknown), for the go-to-page prompt; it pages the
// loaded range locally first when it was not paged yet.
func (l *loader) pageNow() (cur, pages int) {
	if l.caps.Pages {
		return max(1, l.query.Page), l.totalPages
	}
	if _, n := l.table.Page(); n == 0 {
		l.table.SetPageSize(l.pageSize)
	}
	return l.table.Page()
}

// setPageSize sets the rows per page, for the PBX's pages and for local ones.
func (l *loader) setPageSize(n int) tea.Cmd {
	l.pageSize = n
	if l.caps.Pages {
		if l.query.Page > 0 {
			return l.gotoPage(1)
		}
		return common.Status(fmt.Sprintf("pages of %d calls: ] fetches page 1", n))
	}
	l.table.SetPageSize(n)
	cur, pages := l.table.Page()
	return common.Status(fmt.Sprintf("showing the loaded calls %d per page: page %d of %d", n, cur, pages))
}

// rangeText is what is loaded, for the header and the status bar: the range, the PBX's page, or the local page
// of the range.
func (l *loader) rangeText() string {
	s := l.label
	if l.query.Page > 0 {
		s = fmt.Sprintf("page %d", l.query.Page)
		if l.totalPages > 0 {
			s += fmt.Sprintf("/%d", l.totalPages)
		}
		return s
	}
	if p, n := l.table.Page(); n > 0 {
		s += fmt.Sprintf(" · page %d/%d", p, n)
	}
	return s
}

// rangeToEdit is the range the range prompt starts from: what is loaded, or today.
func (l *loader) rangeToEdit() (from, to time.Time) {
	if l.query.Page > 0 || l.query.From.IsZero() {
		from, to, _ = l.presetRange(presetToday)
		return from, to
	}
	return l.query.From, l.query.To
}

// emptyText is what the table says when it shows no row: why, and what to do about it.
func (l *loader) emptyText() string {
	switch {
	case l.src == nil:
		return errNoSource.Error()
	case l.table.Loaded() > 0:
		return fmt.Sprintf("no calls match — esc clears the search/filters (%s loaded)", human.Count(int64(l.table.Loaded())))
	case l.fetch != nil && l.fetch.kind == fetchLoad:
		return "loading calls " + queryWords(l.fetch.q) + "…"
	case l.failed:
		return "no calls: the fetch failed (the status bar says why) — r retries"
	case isZeroQuery(l.query):
		return "no calls yet"
	}
	if f, t := cdr.WallClock(l.query.From), cdr.WallClock(l.query.To); l.query.Page == 0 && !f.IsZero() &&
		f.Equal(midnight(f)) && t.Equal(f.AddDate(0, 0, 1)) {
		return "no calls on " + f.Format("2006-01-02") + " — y, w, m or R load other days"
	}
	return "no calls " + queryWords(l.query) + " — t, y, w, m or R load other days"
}

// queryWords names what a query asks for, in the words of common.RangeWords.
func queryWords(q cdr.Query) string {
	if q.Page > 0 {
		return fmt.Sprintf("on page %d", q.Page)
	}
	return common.RangeWords(cdr.WallClock(q.From), cdr.WallClock(q.To))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
