package prompt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/common"
)

// GotoMsg asks the root to fetch and show one call.
type GotoMsg struct{ Lookup cdr.Lookup }

// RangeMsg asks for the calls between two wall-clock times (To exclusive).
type RangeMsg struct{ From, To time.Time }

// PageMsg asks for page Page; PageSizeMsg sets the page size.
type PageMsg struct{ Page int }
type PageSizeMsg struct{ Size int }

// ParseLookup reads what a person pastes to name a call: a unique ID (1396000115.1) or an exact start time
// (20140328114835 or 2014-03-28 11:48:35).
func ParseLookup(s string) (cdr.Lookup, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return cdr.Lookup{}, errors.New("type a call's unique ID (1396000115.1) or start time (2014-03-28 11:48:35)")
	}
	if t, err := cdr.ParseTime(s, nil); err == nil {
		// A bare date is not one call: only full times name a call.
		if len(s) >= 14 {
			return cdr.ByStart(t), nil
		}
	}
	if strings.ContainsAny(s, " \t/") {
		return cdr.Lookup{}, fmt.Errorf("%q is neither a unique ID (1396000115.1) nor a start time (20140328114835 or 2014-03-28 11:48:35)", s)
	}
	return cdr.ByID(s), nil
}

// Goto is the go-to-call prompt.
func Goto(ctx *common.Context) *Model {
	return New(ctx, "Go to call", "A unique ID or the exact start time, in the PBX's wall clock. The call is fetched from the PBX even when it is outside the loaded range.",
		[]Field{{Label: "Call", Placeholder: "1396000115.1 or 2014-03-28 11:48:35"}},
		func(v []string) (tea.Msg, error) {
			l, err := ParseLookup(v[0])
			if err != nil {
				return nil, err
			}
			return GotoMsg{Lookup: l}, nil
		})
}

// ParseRange reads a from/to pair in the CLI's forms. A bare date as "to" includes that whole day.
func ParseRange(from, to string) (time.Time, time.Time, error) {
	f, err := cdr.ParseTime(from, nil)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("from: %w", err)
	}
	var t time.Time
	if strings.TrimSpace(to) == "" {
		t = f.AddDate(0, 0, 1)
	} else {
		t, err = cdr.ParseTime(to, nil)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("to: %w", err)
		}
		if len(strings.TrimSpace(to)) == 8 || len(strings.TrimSpace(to)) == 10 {
			t = t.AddDate(0, 0, 1) // "to 2024-03-02" means through the end of that day
		}
	}
	if !t.After(f) {
		return time.Time{}, time.Time{}, errors.New("the range ends before it starts: make \"to\" later than \"from\"")
	}
	return f, t, nil
}

// Range is the custom from/to prompt, prefilled with the current range.
func Range(ctx *common.Context, from, to time.Time) *Model {
	fv, tv := "", ""
	if !from.IsZero() {
		fv = from.Format("2006-01-02 15:04")
	}
	if !to.IsZero() {
		tv = to.Format("2006-01-02 15:04")
	}
	return New(ctx, "Time range", "Forms: 2013-03-01, 2013-03-01 23:00, 2013-03-01T23:00:05, 201303012300. A date as \"to\" includes that day; empty \"to\" means one day.",
		[]Field{{Label: "From", Placeholder: "2024-03-01", Value: fv}, {Label: "To", Placeholder: "2024-03-02", Value: tv}},
		func(v []string) (tea.Msg, error) {
			f, t, err := ParseRange(v[0], v[1])
			if err != nil {
				return nil, err
			}
			return RangeMsg{From: f, To: t}, nil
		})
}

// Page is the go-to-page prompt; pages is 0 when the total is unknown.
func Page(ctx *common.Context, cur, pages int) *Model {
	hint := "Page numbers start at 1."
	if pages > 0 {
		hint = fmt.Sprintf("Pages 1 to %d.", pages)
	}
	return New(ctx, "Go to page", hint, []Field{{Label: "Page", Value: strconv.Itoa(cur)}},
		func(v []string) (tea.Msg, error) {
			n, err := strconv.Atoi(strings.TrimSpace(v[0]))
			if err != nil || n < 1 || (pages > 0 && n > pages) {
				return nil, fmt.Errorf("%q is not a page number: %s", v[0], hint)
			}
			return PageMsg{Page: n}, nil
		})
}

// PageSize is the page size prompt.
func PageSize(ctx *common.Context, cur int) *Model {
	return New(ctx, "Page size", "Rows per page, 1 to 100000.", []Field{{Label: "Rows", Value: strconv.Itoa(cur)}},
		func(v []string) (tea.Msg, error) {
			n, err := strconv.Atoi(strings.TrimSpace(v[0]))
			if err != nil || n < 1 || n > 100000 {
				return nil, fmt.Errorf("%q is not a page size: type a number from 1 to 100000", v[0])
			}
			return PageSizeMsg{Size: n}, nil
		})
}
