package archive

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"slices"
	"strings"

	"github.com/callscope/callscope/client/cdr"
)

// Search passes fn, in start order, the calls of q (its range and extension, and its page as Calls pages) in
// which text appears, ignoring case: in the dialled number, the caller ID, the call ID, the extension, its
// friendly name or the account code, as the app's search (`/`) looks, or in the name of the extension's user.
// A search that is a phone number written with spaces, dashes, dots, slashes or brackets ("082 555-1234") also
// finds the number written without them. Empty text finds every call, as Calls does.
//
// A year of a busy PBX is searched in a fraction of a second: each day's block holds its calls' searchable
// text in lower case (blocks.go), scanned as one string.
func (a *Archive) Search(ctx context.Context, q cdr.Query, text string, fn func(cdr.Record) error) (cdr.Result, error) {
	m, err := a.newMatcher(ctx, text)
	if err != nil {
		return cdr.Result{Page: q.Page}, err
	}
	if m == nil {
		return a.Calls(ctx, q, fn)
	}
	if a.schema < 3 {
		return a.searchIndex(ctx, q, m, fn)
	}
	return a.searchBlocks(ctx, q, m, fn)
}

// textMatcher says whether a call's line of search text (appendSearchText) matches.
type textMatcher struct {
	needles [][]byte        // any of them, in the line
	exts    map[string]bool // or the call's extension (lower case) is one of these: its user's name matched
}

// newMatcher reads a search; nil when it finds every call.
func (a *Archive) newMatcher(ctx context.Context, text string) (*textMatcher, error) {
	if strings.TrimSpace(lowerText(text)) == "" {
		return nil, nil
	}
	users, err := a.Users(ctx)
	if err != nil {
		return nil, a.readError(err)
	}
	return matcherFor(text, users), nil
}

// matcherFor reads a search, with the users whose names it may match; nil when it finds every call.
func matcherFor(text string, users []cdr.User) *textMatcher {
	needle := strings.TrimSpace(lowerText(text))
	if needle == "" {
		return nil
	}
	m := &textMatcher{needles: [][]byte{[]byte(needle)}}
	if digits, ok := phoneDigits(needle); ok {
		m.needles = append(m.needles, []byte(digits))
	}
	for _, u := range users {
		if strings.Contains(lowerText(u.Name), needle) {
			if m.exts == nil {
				m.exts = map[string]bool{}
			}
			m.exts[lowerText(u.Extension)] = true
		}
	}
	return m
}

// TextFilter selects calls as Search does, for calls that come from elsewhere (a PBX): the same fields, the
// same rules for phone numbers and for users' names. It is safe for concurrent use (comx.Client.WriteCalls
// filters on several goroutines).
type TextFilter struct {
	m *textMatcher
}

// NewTextFilter reads a search; users are the PBX's (a user whose name matches selects the calls of their
// extension). It returns nil when the text finds every call.
func NewTextFilter(text string, users []cdr.User) *TextFilter {
	m := matcherFor(text, users)
	if m == nil {
		return nil
	}
	return &TextFilter{m: m}
}

// Match reports whether the search finds call r. A nil TextFilter (a search for nothing) finds every call.
func (f *TextFilter) Match(r *cdr.Record) bool {
	if f == nil {
		return true
	}
	var buf [512]byte // a call's search text, on the stack unless it is longer
	return f.m.line(appendSearchText(buf[:0], r))
}

// phoneDigits is a search's digits when it is a phone number written with separators: at least three digits,
// a "+" only first, and nothing but separators between them.
func phoneDigits(s string) (string, bool) {
	var digits []byte
	separated := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' && i == 0:
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
			separated = true
		default:
			return "", false
		}
	}
	n := len(bytes.TrimPrefix(digits, []byte("+")))
	return string(digits), separated && n >= 3
}

// line reports whether one call's line of search text matches.
func (m *textMatcher) line(line []byte) bool {
	for _, n := range m.needles {
		if bytes.Contains(line, n) {
			return true
		}
	}
	if m.exts != nil {
		f := line
		for range extField {
			if i := bytes.IndexByte(f, fieldEnd); i >= 0 {
				f = f[i+1:]
			}
		}
		if i := bytes.IndexByte(f, fieldEnd); i >= 0 && m.exts[string(f[:i])] {
			return true
		}
	}
	return false
}

// lines returns the indexes of the matching lines of a day's search text, in order. Each needle is looked for
// in the whole text at once, counting only the lines before a match; so is each extension of a matching user's
// name, as a whole field, kept where it is the line's extension field (extField).
func (m *textMatcher) lines(text []byte) []int {
	var hits []int
	for _, n := range m.needles {
		hits = scanLines(text, n, -1, hits)
	}
	for ext := range m.exts {
		// The pattern begins with the end of the field before the extension, which extField-1 field ends precede.
		hits = scanLines(text, append(append([]byte{fieldEnd}, ext...), fieldEnd), extField-1, hits)
	}
	if len(m.needles)+len(m.exts) > 1 {
		slices.Sort(hits)
		hits = slices.Compact(hits)
	}
	return hits
}

// scanLines appends the indexes of the lines of text that hold pattern to hits. With ends >= 0, a match counts
// only where it begins at the line's ends-th field end (0-based): "\x1f2002\x1f" with ends 2 is the fourth field.
func scanLines(text, pattern []byte, ends int, hits []int) []int {
	line, counted := 0, 0 // line is the index of the line that holds text[counted]
	for from := 0; from < len(text); {
		at := bytes.Index(text[from:], pattern)
		if at < 0 {
			break
		}
		at += from
		line += bytes.Count(text[counted:at], []byte{lineEnd})
		counted = at
		if ends >= 0 {
			start := bytes.LastIndexByte(text[:at], lineEnd) + 1
			if bytes.Count(text[start:at], []byte{fieldEnd}) != ends {
				from = at + 1 // another field: the wanted one may follow on this line
				continue
			}
		}
		hits = append(hits, line)
		end := bytes.IndexByte(text[at:], lineEnd)
		if end < 0 {
			break
		}
		from = at + end + 1
		counted, line = from, line+1
	}
	return hits
}

// searchBlocks answers Search from the day blocks: each day's text is scanned, and only the calls that match
// are read, one by one by ID when they are few, or with the day's block when they are many. An extension is
// checked on the matching calls (cdr.Record.InvolvesExtension).
func (a *Archive) searchBlocks(ctx context.Context, q cdr.Query, m *textMatcher, fn func(cdr.Record) error) (cdr.Result, error) {
	res := cdr.Result{Page: q.Page}
	ext := strings.TrimSpace(q.Extension)
	sp := spanOf(cdr.Query{From: q.From, To: q.To})
	if sp.empty() {
		return res, nil
	}
	total := 0
	w, limit := pageWindow(q, fn)
	matched := &window{take: -1, fn: func(r cdr.Record) error {
		if ext != "" && !r.InvolvesExtension(ext) {
			return nil
		}
		total++ // past the page too, for TotalPages
		return w.offer(r)
	}}
	tx, err := a.readTx(ctx)
	if err != nil {
		return res, err
	}
	defer func() { _ = tx.Rollback() }() // a no-op once committed
	byID := &idQueries{tx: tx}
	defer byID.close()
	rows, err := tx.QueryContext(ctx, `SELECT day, ids, text FROM day_text WHERE day >= ? AND day <= ? ORDER BY day`, sp.lo, sp.hi)
	if err != nil {
		return res, a.readError(err)
	}
	defer func() { _ = rows.Close() }()
	var (
		day       int64
		text, ids sql.RawBytes // read in place
	)
	for rows.Next() {
		if err := rows.Scan(&day, &ids, &text); err != nil {
			return res, a.readError(err)
		}
		hits := m.lines(text)
		if len(hits) == 0 {
			continue
		}
		if n := bytes.Count(text, []byte{lineEnd}); len(hits)*denseHits >= n {
			err = a.passDay(ctx, tx, day, sp, hits, matched)
		} else {
			err = a.passByID(ctx, byID, ids, hits, sp, matched)
		}
		if err != nil {
			res.Rows = w.rows
			return res, err
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	res.Rows = w.rows
	if q.Page > 0 {
		res.TotalPages = (total + limit - 1) / limit
	}
	return res, a.readError(rows.Err())
}

// denseHits: when at least one call of a day in this many matches, the day's block is read whole rather than
// the matching calls one by one (a call by ID costs about what reading a few of them from a block does).
const denseHits = 8

// passDay passes the day's calls with the given indexes (in order) through the window, from its block.
func (a *Archive) passDay(ctx context.Context, tx *sql.Tx, day int64, sp span, hits []int, w *window) error {
	var block sql.RawBytes
	rows, err := tx.QueryContext(ctx, `SELECT calls FROM days WHERE day = ?`, day)
	if err != nil {
		return a.readError(err)
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		return a.readError(errors.Join(rows.Err(), errBadBlock))
	}
	if err := rows.Scan(&block); err != nil {
		return a.readError(err)
	}
	next := 0
	keep := func(i int) bool {
		for next < len(hits) && hits[next] < i {
			next++
		}
		return next < len(hits) && hits[next] == i
	}
	return a.passBlock(ctx, block, sp, keep, w)
}

// passByID passes the calls with the given indexes (in order) in a day's list of IDs through the window,
// reading them by their IDs, up to idsPerQuery to a query.
func (a *Archive) passByID(ctx context.Context, byID *idQueries, ids []byte, hits []int, sp span, w *window) error {
	want := make([]any, 0, len(hits))
	next := 0
	for i := 0; next < len(hits) && len(ids) > 0; i++ {
		l, k := binary.Uvarint(ids)
		if k <= 0 || l > uint64(len(ids)-k) {
			return a.readError(errBadBlock)
		}
		id := ids[k : k+int(l)]
		ids = ids[k+int(l):]
		if hits[next] == i {
			want = append(want, string(id))
			next++
		}
	}
	if next < len(hits) {
		return a.readError(errBadBlock) // fewer IDs than lines of text
	}
	for len(want) > 0 {
		part := want[:min(len(want), idsPerQuery)]
		want = want[len(part):]
		rows, err := byID.query(ctx, part)
		if err != nil {
			return a.readError(err)
		}
		for rows.Next() {
			var r cdr.Record
			var wall int64
			var off int
			var packed sql.RawBytes
			if err := rows.Scan(&r.UniqueID, &wall, &off, &packed); err != nil {
				_ = rows.Close()
				return a.readError(err)
			}
			if !sp.holds(wall) {
				continue
			}
			if err := decodeRecord(packed, &r); err != nil {
				_ = rows.Close()
				return a.readError(err)
			}
			r.Start = a.place(wall, off)
			if err := w.fn(r); err != nil {
				_ = rows.Close()
				return err
			}
		}
		_ = rows.Close()
		if err := rows.Err(); err != nil {
			return a.readError(err)
		}
	}
	return nil
}

// idsPerQuery bounds the IDs one query asks for (SQLite takes at most 32,766 parameters).
const idsPerQuery = 512

// idQueries reads calls by ID, in start order, with statements prepared once per search: one for each of a
// few list lengths (8, 32, 128, 512), the shortest that holds the IDs, the rest of the list NULL, which
// matches nothing. (A statement made for each list's own length was parsed and planned again for every day:
// 8% of a year's search.)
type idQueries struct {
	tx    *sql.Tx
	stmts map[int]*sql.Stmt
	args  []any
}

func (q *idQueries) query(ctx context.Context, ids []any) (*sql.Rows, error) {
	n := 8
	for n < len(ids) {
		n *= 4
	}
	stmt := q.stmts[n]
	if stmt == nil {
		var err error
		stmt, err = q.tx.PrepareContext(ctx, `SELECT `+callColumns+` FROM calls WHERE id IN (?`+
			strings.Repeat(",?", n-1)+`) ORDER BY start_wall, id`)
		if err != nil {
			return nil, err
		}
		if q.stmts == nil {
			q.stmts = map[int]*sql.Stmt{}
		}
		q.stmts[n] = stmt
	}
	q.args = append(append(q.args[:0], ids...), make([]any, n-len(ids))...)
	return stmt.QueryContext(ctx, q.args...)
}

func (q *idQueries) close() {
	for _, s := range q.stmts {
		_ = s.Close()
	}
}

// searchIndex answers Search for an index of an older format (no blocks): every call of the range is read and
// its line of search text matched, so it finds exactly what the blocks would.
func (a *Archive) searchIndex(ctx context.Context, q cdr.Query, m *textMatcher, fn func(cdr.Record) error) (cdr.Result, error) {
	total := 0
	w, limit := pageWindow(q, fn)
	var line []byte
	res, err := a.callsFromIndex(ctx, cdr.Query{From: q.From, To: q.To, Extension: strings.TrimSpace(q.Extension)},
		func(r cdr.Record) error {
			line = appendSearchText(line[:0], &r)
			if !m.line(line) {
				return nil
			}
			total++ // past the page too, for TotalPages
			return w.offer(r)
		})
	res.Page, res.Rows = q.Page, w.rows
	if q.Page > 0 {
		res.TotalPages = (total + limit - 1) / limit
	}
	return res, err
}
