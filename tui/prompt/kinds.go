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

// ParseRange reads a from/to pair in the CLI's forms, with the CLI's rule: "from" is inclusive and "to"
// exclusive, as in the Com.X spec, so "to 2024-03-02" stops before 2024-03-02 00:00. An empty "to" means one day
// from "from".
func ParseRange(from, to string) (time.Time, time.Time, error) {
	f, err := cdr.ParseTime(from, nil)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("from: %w", err)
	}
	var t time.Time
	if strings.TrimSpace(to) == "" {
		t = f.AddDate(0, 0, 1)
	} else if t, err = cdr.ParseTime(to, nil); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("to: %w", err)
	}
	if !t.After(f) {
		return time.Time{}, time.Time{}, fmt.Errorf("the range is empty: \"to\" (%s) must be later than \"from\" (%s); \"to\" is not included", stamp(t), stamp(f))
	}
	return f, t, nil
}

// stamp writes a wall-clock time as the range prompt takes it: the date alone at midnight.
func stamp(t time.Time) string {
	switch {
	case t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0:
		return t.Format("2006-01-02")
	case t.Second() != 0:
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

// Range is the custom from/to prompt, prefilled with the current range. Under the fields it says which calls
// enter would load, in the words the CLI's help uses ("to" is exclusive).
func Range(ctx *common.Context, from, to time.Time) *Model {
	fv, tv := "", ""
	if !from.IsZero() {
		fv = stamp(from)
	}
	if !to.IsZero() {
		tv = stamp(to)
	}
	m := New(ctx, "Time range", "Forms: 2013-03-01, 2013-03-01 23:00, 2013-03-01T23:00:05, 201303012300, in the PBX's wall clock. \"From\" is included, \"to\" is not (as in callscope calls --from/--to); an empty \"to\" means one day.",
		[]Field{{Label: "From", Placeholder: "2024-03-01", Value: fv}, {Label: "To (excl.)", Placeholder: "empty: one day", Value: tv}},
		func(v []string) (tea.Msg, error) {
			f, t, err := ParseRange(v[0], v[1])
			if err != nil {
				return nil, err
			}
			return RangeMsg{From: f, To: t}, nil
		})
	m.preview = func(v []string) string {
		f, t, err := ParseRange(v[0], v[1])
		if err != nil {
			return ""
		}
		return "Loads the calls " + common.RangeWords(f, t) + "."
	}
	return m
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
