package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
)

// Streaming: the source's Calls runs in a goroutine started by a Cmd and hands rows to a channel; a Cmd reads
// up to batchRows of them, or whatever arrived within batchWait, and returns them as one message together with
// the Cmd that waits for the next batch. Every fetch carries a tag; a message with an old tag is dropped.
const (
	batchRows = 2000
	batchWait = 50 * time.Millisecond
)

type fetchKind int

const (
	fetchLoad    fetchKind = iota // a new range or page: rows replace what was there as they arrive
	fetchRefresh                  // the same query again: swapped in when complete, old rows kept on failure
	fetchFollow                   // new calls since the newest loaded one, added to the table
)

type stream struct {
	tag   int
	kind  fetchKind
	q     cdr.Query
	label string // how the status bar names q
	note  string // said before "loaded N calls" when the load ends ("" for nothing)
	// preset is the preset this load measured (-1: none), and zoneKnown and clockKnown whether the PBX's zone
	// and clock were known then: a preset measured without them is measured again once the PBX's answer tells
	// them.
	preset                preset
	zoneKnown, clockKnown bool
	cancel                context.CancelFunc
	rows                  chan cdr.Record

	mu       sync.Mutex
	res      cdr.Result
	err      error
	warns    int
	lastWarn error
}

type batchMsg struct {
	s    *stream
	rows []cdr.Record
}

type doneMsg struct {
	s        *stream
	res      cdr.Result
	err      error
	warns    int
	lastWarn error
}

func newStream(tag int, kind fetchKind, q cdr.Query) (*stream, context.Context) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &stream{tag: tag, kind: kind, q: q, cancel: cancel, rows: make(chan cdr.Record, 4096), preset: -1}
	ctx = cdr.WithObserver(ctx, cdr.Observer{OnWarn: func(err error) {
		s.mu.Lock()
		s.warns++
		s.lastWarn = err
		s.mu.Unlock()
	}})
	return s, ctx
}

// start is the Cmd that runs the fetch and returns its first batch.
func (s *stream) start(ctx context.Context, src cdr.Source) tea.Cmd {
	return func() tea.Msg {
		go func() {
			res, err := src.Calls(ctx, s.q, func(r cdr.Record) error {
				select {
				case s.rows <- r:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			s.mu.Lock()
			s.res, s.err = res, err
			s.mu.Unlock()
			close(s.rows)
		}()
		return s.collect()
	}
}

// next is the Cmd that waits for the next batch.
func (s *stream) next() tea.Cmd { return func() tea.Msg { return s.collect() } }

func (s *stream) collect() tea.Msg {
	r, ok := <-s.rows
	if !ok {
		s.mu.Lock()
		defer s.mu.Unlock()
		return doneMsg{s: s, res: s.res, err: s.err, warns: s.warns, lastWarn: s.lastWarn}
	}
	batch := make([]cdr.Record, 1, 256)
	batch[0] = r
	timer := time.NewTimer(batchWait)
	defer timer.Stop()
	for len(batch) < batchRows {
		select {
		case r, ok := <-s.rows:
			if !ok {
				return batchMsg{s: s, rows: batch}
			}
			batch = append(batch, r)
		case <-timer.C:
			return batchMsg{s: s, rows: batch}
		}
	}
	return batchMsg{s: s, rows: batch}
}

// usersMsg carries the PBX's extension list.
type usersMsg struct {
	users []cdr.User
	err   error
}

func fetchUsers(src cdr.Source) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		us, err := src.Users(ctx)
		return usersMsg{users: us, err: err}
	}
}

// gotoMsg carries one call fetched by ID or start time.
type gotoMsg struct {
	tag     int
	lookup  cdr.Lookup
	rec     cdr.Record
	err     error
	startup bool
}

func fetchCall(tag int, src cdr.Source, l cdr.Lookup, startup bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		r, err := src.Call(ctx, l)
		return gotoMsg{tag: tag, lookup: l, rec: r, err: err, startup: startup}
	}
}

// newestMsg carries an archive's newest call (findNewest), asked for when the query after was what was loaded;
// found is false for an empty archive.
type newestMsg struct {
	after cdr.Query
	rec   cdr.Record
	found bool
	err   error
}

// findNewest asks a source that pages for its newest call: the last of its pages of one call.
func findNewest(after cdr.Query, src cdr.Source) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := src.Calls(ctx, cdr.Query{Page: 1, Limit: 1}, func(cdr.Record) error { return nil })
		if err != nil || res.TotalPages < 1 {
			return newestMsg{after: after, err: err}
		}
		m := newestMsg{after: after}
		_, m.err = src.Calls(ctx, cdr.Query{Page: res.TotalPages, Limit: 1}, func(r cdr.Record) error {
			m.rec, m.found = r, true
			return nil
		})
		return m
	}
}

// warningMsg is one warning from Options.Warnings, with the channel to wait on for the next.
type warningMsg struct {
	text string
	ch   <-chan string
}

func waitWarning(ch <-chan string) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		w, ok := <-ch
		if !ok {
			return nil
		}
		return warningMsg{text: w, ch: ch}
	}
}

type followTick struct{ gen int }

// followEvery is how often follow mode asks the PBX for new calls: often enough to feel live, rarely enough
// that a Com.X re-reading the day's index is no burden.
const followEvery = 30 * time.Second

func followAfter(gen int) tea.Cmd {
	return tea.Tick(followEvery, func(time.Time) tea.Msg { return followTick{gen: gen} })
}

// describeFetchError turns a fetch error into the line the status bar shows.
func describeFetchError(err error, kept int) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	err = advise(err)
	if kept > 0 {
		return fmt.Errorf("%w (%d rows kept; r retries)", err, kept)
	}
	return fmt.Errorf("%w (r retries)", err)
}
