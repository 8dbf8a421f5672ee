package archive

import (
	"bytes"
	"context"
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
	needle := strings.TrimSpace(lowerText(text))
	if needle == "" {
		return nil, nil
	}
	m := &textMatcher{needles: [][]byte{[]byte(needle)}}
	if digits, ok := phoneDigits(needle); ok {
		m.needles = append(m.needles, []byte(digits))
	}
	users, err := a.Users(ctx)
	if err != nil {
		return nil, a.readError(err)
	}
	for _, u := range users {
		if strings.Contains(lowerText(u.Name), needle) {
			if m.exts == nil {
				m.exts = map[string]bool{}
			}
			m.exts[lowerText(u.Extension)] = true
		}
	}
	return m, nil
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
		// The extension is the fourth field.
		f := line
		for range 3 {
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

// lines returns the indexes of the matching lines of a day's search text, in order. Without user names to
// match, it looks for the needles in the whole text at once and only counts the lines before a match.
func (m *textMatcher) lines(text []byte) []int {
	var hits []int
	if m.exts != nil || len(m.needles) > 1 {
		for i := 0; len(text) > 0; i++ {
			end := bytes.IndexByte(text, lineEnd)
			if end < 0 {
				end = len(text) - 1
			}
			if m.line(text[:end+1]) {
				hits = append(hits, i)
			}
			text = text[end+1:]
		}
		return hits
	}
	needle := m.needles[0]
	line, rest := 0, text
	for {
		at := bytes.Index(rest, needle)
		if at < 0 {
			return hits
		}
		line += bytes.Count(rest[:at], []byte{lineEnd})
		hits = append(hits, line)
		end := bytes.IndexByte(rest[at:], lineEnd)
		if end < 0 {
			return hits
		}
		rest = rest[at+end+1:]
		line++
	}
}

// searchBlocks answers Search from the day blocks: each day's text is scanned, and only the calls that match
// are read. An extension is checked on the matching calls (cdr.Record.InvolvesExtension).
func (a *Archive) searchBlocks(ctx context.Context, q cdr.Query, m *textMatcher, fn func(cdr.Record) error) (cdr.Result, error) {
	res := cdr.Result{Page: q.Page}
	ext := strings.TrimSpace(q.Extension)
	sp := spanOf(cdr.Query{From: q.From, To: q.To})
	if sp.empty() {
		return res, nil
	}
	total := 0
	w, limit := pageWindow(q, fn)
	counted := &window{take: -1, fn: func(r cdr.Record) error {
		if ext != "" && !r.InvolvesExtension(ext) {
			return nil
		}
		total++
		if w.skip > 0 {
			w.skip--
			return nil
		}
		if w.full() {
			return nil // past the page: counted on, for TotalPages
		}
		w.rows++
		return w.fn(r)
	}}
	tx, err := a.readTx(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	query, args := sp.blocksQuery(`calls, text`)
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return res, a.readError(err)
	}
	defer rows.Close()
	var block, text []byte
	for rows.Next() {
		if err := rows.Scan(&block, &text); err != nil {
			return res, a.readError(err)
		}
		hits := m.lines(text)
		if len(hits) == 0 {
			continue
		}
		next := 0
		keep := func(i int) bool {
			for next < len(hits) && hits[next] < i {
				next++
			}
			return next < len(hits) && hits[next] == i
		}
		if err := a.passBlock(ctx, block, sp, keep, counted); err != nil {
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
			total++
			if w.skip > 0 {
				w.skip--
				return nil
			}
			if w.full() {
				return nil // past the page: counted on, for TotalPages
			}
			w.rows++
			return w.fn(r)
		})
	res.Page, res.Rows = q.Page, w.rows
	if q.Page > 0 {
		res.TotalPages = (total + limit - 1) / limit
	}
	return res, err
}
