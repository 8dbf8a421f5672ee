package prompt

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// "to" is exclusive in the app as in the CLI (and the Com.X spec): a date as "to" stops at its midnight.
func TestParseRangeToIsExclusive(t *testing.T) {
	for _, tc := range []struct {
		from, to         string
		wantFrom, wantTo time.Time
		err              string
	}{
		{"2026-11-01", "2026-11-20", day(2026, 11, 1), day(2026, 11, 20), ""},
		{"20261101", "20261120", day(2026, 11, 1), day(2026, 11, 20), ""},
		{"2026-11-20", "", day(2026, 11, 20), day(2026, 11, 21), ""},
		{"2026-11-20 09:00", "2026-11-20 17:30", day(2026, 11, 20).Add(9 * time.Hour), day(2026, 11, 20).Add(17*time.Hour + 30*time.Minute), ""},
		{"2026-11-20", "2026-11-20", time.Time{}, time.Time{}, "is not included"},
		{"2026-11-21", "2026-11-20", time.Time{}, time.Time{}, "must be later"},
		{"yesterday", "", time.Time{}, time.Time{}, "from:"},
		{"2026-11-01", "soon", time.Time{}, time.Time{}, "to:"},
	} {
		f, to, err := ParseRange(tc.from, tc.to)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRange(%q, %q) error %v, want one saying %q", tc.from, tc.to, err, tc.err)
			}
			continue
		}
		if err != nil || !f.Equal(tc.wantFrom) || !to.Equal(tc.wantTo) {
			t.Errorf("ParseRange(%q, %q) = %v, %v, %v; want %v, %v", tc.from, tc.to, f, to, err, tc.wantFrom, tc.wantTo)
		}
	}
}

// The range prompt says, as the user types, which calls enter loads, in the CLI's words; its "to" field says it
// is exclusive; a loaded whole-day range comes back as dates, not as the next day's 00:00.
func TestRangePromptShowsWhatItLoads(t *testing.T) {
	ctx := common.NewContext(theme.New(true, true), nil, nil)
	m := Range(ctx, day(2026, 11, 1), day(2026, 11, 21))
	m.SetSize(100, 30)
	m.Focus()
	if v := m.Values(); v[0] != "2026-11-01" || v[1] != "2026-11-21" {
		t.Fatalf("prefilled %q", v)
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyTab})
	m.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
	m.Update(tea.KeyPressMsg{Code: '0', Text: "0"})
	view := ansi.Strip(m.View())
	for _, want := range []string{"To (excl.)", "Loads the calls from 2026-11-01 00:00 to before 2026-11-20 00:00."} {
		if !strings.Contains(strings.Join(strings.Fields(strings.ReplaceAll(view, "│", "")), " "), want) {
			t.Errorf("the range prompt does not say %q:\n%s", want, view)
		}
	}
	cmd := m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	var got RangeMsg
	for _, msg := range runBatch(cmd) {
		if r, ok := msg.(RangeMsg); ok {
			got = r
		}
	}
	if !got.From.Equal(day(2026, 11, 1)) || !got.To.Equal(day(2026, 11, 20)) {
		t.Fatalf("enter asked for %v → %v, want 2026-11-01 → 2026-11-20 (exclusive)", got.From, got.To)
	}
}

func runBatch(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, runBatch(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range [][2]string{{"2026-11-01", "2026-11-20"}, {"201303012300", ""}, {"2013-03-01T23:00:05", "2013-03-02"}, {"", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, from, to string) {
		fr, tt, err := ParseRange(from, to)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if !tt.After(fr) {
			t.Fatalf("accepted an empty range %v → %v", fr, tt)
		}
	})
}

func FuzzParseLookup(f *testing.F) {
	for _, s := range []string{"1396000115.1", "20140328114835", "2014-03-28 11:48:35", "2014 03", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLookup(s)
		if err == nil && l.IsZero() {
			t.Fatalf("ParseLookup(%q) accepted nothing", s)
		}
	})
}
