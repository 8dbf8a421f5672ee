package archive

import (
	"context"
	"database/sql"
	"math"
	"strings"

	"github.com/callscope/callscope/client/cdr"
)

// span is the part of the blocks a query reads: one extension's blocks or every call's, over a range of days,
// and within them the calls whose wall clock is in [from, to).
type span struct {
	party    string // "" for every call (days), else one extension's blocks (party_days)
	lo, hi   int64  // days, inclusive
	from, to int64  // wall clocks
}

func spanOf(q cdr.Query) span {
	sp := span{party: strings.TrimSpace(q.Extension), lo: math.MinInt64, hi: math.MaxInt64, from: math.MinInt64, to: math.MaxInt64}
	if !q.From.IsZero() {
		sp.from = cdr.WallClock(q.From).Unix()
		sp.lo = dayOf(sp.from)
	}
	if !q.To.IsZero() {
		sp.to = cdr.WallClock(q.To).Unix()
		sp.hi = dayOf(sp.to - 1)
	}
	return sp
}

func (sp span) empty() bool { return sp.from >= sp.to }

// cuts reports whether the range leaves out part of day d, so the block's count is not the span's.
func (sp span) cuts(d int64) bool {
	first, last := dayBounds(d)
	return sp.from > first || sp.to <= last
}

func (sp span) holds(wall int64) bool { return wall >= sp.from && wall < sp.to }

// blocksQuery selects the span's blocks in day order: cols of days, or of party_days.
func (sp span) blocksQuery(cols string) (string, []any) {
	if sp.party == "" {
		return `SELECT ` + cols + ` FROM days WHERE day >= ? AND day <= ? ORDER BY day`, []any{sp.lo, sp.hi}
	}
	return `SELECT ` + cols + ` FROM party_days WHERE party = ? AND day >= ? AND day <= ? ORDER BY day`,
		[]any{sp.party, sp.lo, sp.hi}
}

// window is the part of a query's matching calls it passes on: all of them, or one page.
type window struct {
	skip, take int // take < 0: no end
	fn         func(cdr.Record) error
	rows       int
}

// pageWindow is the window of q's page (all calls when q is not paged), and the page length.
func pageWindow(q cdr.Query, fn func(cdr.Record) error) (*window, int) {
	w := &window{take: -1, fn: fn}
	if q.Page <= 0 {
		return w, 0
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	w.skip, w.take = (q.Page-1)*limit, limit
	return w, limit
}

// full reports whether the window has passed on all it takes.
func (w *window) full() bool { return w.take >= 0 && w.rows >= w.take }

// offer passes r on if it falls in the window: after the rows it skips, before it is full.
func (w *window) offer(r cdr.Record) error {
	if w.skip > 0 {
		w.skip--
		return nil
	}
	if w.full() {
		return nil
	}
	w.rows++
	return w.fn(r)
}

// readTx starts a read-only transaction, so that a query's count and rows see the same calls.
func (a *Archive) readTx(ctx context.Context) (*sql.Tx, error) {
	tx, err := a.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	return tx, a.readError(err)
}

// callsFromBlocks answers Calls from the blocks.
func (a *Archive) callsFromBlocks(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	res := cdr.Result{Page: q.Page}
	sp := spanOf(q)
	w, limit := pageWindow(q, fn)
	if sp.empty() {
		return res, nil
	}
	tx, err := a.readTx(ctx)
	if err != nil {
		return res, err
	}
	defer func() { _ = tx.Rollback() }() // a no-op once committed
	start := sp.lo
	if q.Page > 0 {
		total, first, skip, err := a.locate(ctx, tx, sp, w.skip)
		if err != nil {
			return res, err
		}
		res.TotalPages = (total + limit - 1) / limit
		if first == math.MaxInt64 {
			return res, nil // the page is past the last call
		}
		start, w.skip = first, skip
	}
	err = a.scanBlocks(ctx, tx, span{party: sp.party, lo: start, hi: sp.hi, from: sp.from, to: sp.to}, w)
	res.Rows = w.rows
	return res, err
}

// locate counts the span's calls and finds the day the skip-th one (0-based) is in, with how many of that day's
// calls in the span come before it. first is math.MaxInt64 when there are no more than skip calls.
func (a *Archive) locate(ctx context.Context, tx *sql.Tx, sp span, skip int) (total int, first int64, left int, err error) {
	query, args := sp.blocksQuery(`day, n`)
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, 0, 0, a.readError(err)
	}
	type count struct {
		day int64
		n   int
	}
	var counts []count
	for rows.Next() {
		var c count
		if err := rows.Scan(&c.day, &c.n); err != nil {
			_ = rows.Close()
			return 0, 0, 0, a.readError(err)
		}
		counts = append(counts, c)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, 0, a.readError(err)
	}
	// Only the first and last days can be cut by the range: count those call by call.
	ends := []int{}
	if len(counts) > 0 {
		ends = append(ends, 0)
	}
	if len(counts) > 1 {
		ends = append(ends, len(counts)-1)
	}
	for _, i := range ends {
		if !sp.cuts(counts[i].day) {
			continue
		}
		n := 0
		day := span{party: sp.party, lo: counts[i].day, hi: counts[i].day, from: sp.from, to: sp.to}
		if err := a.scanBlocks(ctx, tx, day, &window{take: -1, fn: func(cdr.Record) error { n++; return nil }}); err != nil {
			return 0, 0, 0, err
		}
		counts[i].n = n
	}
	first = math.MaxInt64
	for _, c := range counts {
		if first == math.MaxInt64 && total+c.n > skip {
			first, left = c.day, skip-total
		}
		total += c.n
	}
	return total, first, left, nil
}

// scanBlocks passes the span's calls, in start order, through the window.
func (a *Archive) scanBlocks(ctx context.Context, tx *sql.Tx, sp span, w *window) error {
	query, args := sp.blocksQuery(`calls`)
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return a.readError(err)
	}
	defer func() { _ = rows.Close() }()
	var block sql.RawBytes // read in place: a block is large, and is done with before the next
	for rows.Next() && !w.full() {
		if err := rows.Scan(&block); err != nil {
			return a.readError(err)
		}
		if err := a.passBlock(ctx, block, sp, nil, w); err != nil {
			return err
		}
	}
	return a.readError(rows.Err())
}

// passBlock passes a block's calls in the span through the window; with keep set, only those whose index in
// the block it accepts.
func (a *Archive) passBlock(ctx context.Context, block []byte, sp span, keep func(int) bool, w *window) error {
	br := blockReader{b: block}
	var row blockRow
	for i := 0; br.next(&row); i++ {
		if !sp.holds(row.wall) || (keep != nil && !keep(i)) {
			continue
		}
		if w.skip > 0 {
			w.skip--
			continue
		}
		if w.full() {
			return nil
		}
		var r cdr.Record
		if err := decodeRecord(row.record, &r); err != nil {
			return a.readError(err)
		}
		r.UniqueID = row.id
		r.Start = a.place(row.wall, row.off)
		if err := w.fn(r); err != nil {
			return err
		}
		if w.rows++; w.rows%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return a.readError(br.err)
}
