package prompt

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
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

func TestParseLookup(t *testing.T) {
	for _, tc := range []struct {
		in, id string
		start  time.Time
		err    string
	}{
		{"1396000115.1", "1396000115.1", time.Time{}, ""},
		{"  1396000115.1 ", "1396000115.1", time.Time{}, ""},
		{"20140328114835", "", time.Date(2014, 3, 28, 11, 48, 35, 0, time.UTC), ""},
		{"2014-03-28 11:48:35", "", time.Date(2014, 3, 28, 11, 48, 35, 0, time.UTC), ""},
		{"2014-03-28T11:48:35", "", time.Date(2014, 3, 28, 11, 48, 35, 0, time.UTC), ""},
		{"2014-03-28", "2014-03-28", time.Time{}, ""}, // a date is not one call: taken as an ID the PBX will not know
		{"abc-def", "abc-def", time.Time{}, ""},
		{"", "", time.Time{}, "type a call's unique ID"},
		{"2014 03 28", "", time.Time{}, "neither a unique ID"},
		{"a/b", "", time.Time{}, "neither a unique ID"},
	} {
		l, err := ParseLookup(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseLookup(%q) error %v, want one saying %q", tc.in, err, tc.err)
			}
		case err != nil || l.ID != tc.id || !cdr.SameWallClock(l.Start, tc.start) || (tc.start.IsZero() != l.Start.IsZero()):
			t.Errorf("ParseLookup(%q) = %+v, %v; want ID %q start %v", tc.in, l, err, tc.id, tc.start)
		}
	}
}

// drive sends keys to a prompt, as the root would, in a synctest bubble: each Cmd runs on a goroutine and what
// has come back once the bubble settles is returned (the messages asking for something, and whether the prompt
// closed). The text input's cursor blinks wait on their timers and are never answered.
func drive(m *Model, keys ...tea.KeyPressMsg) (out []tea.Msg, closed bool) {
	msgs := make(chan tea.Msg, 64)
	exec := func(c tea.Cmd) {
		if c != nil {
			go func() { msgs <- c() }()
		}
	}
	for _, k := range keys {
		exec(m.Update(k))
		for settled := false; !settled; {
			synctest.Wait()
			select {
			case msg := <-msgs:
				switch msg := msg.(type) {
				case tea.BatchMsg:
					for _, c := range msg {
						exec(c)
					}
				case common.CloseDialog:
					closed = true
				case GotoMsg, RangeMsg, PageMsg, PageSizeMsg:
					out = append(out, msg)
				}
			default:
				settled = true
			}
		}
	}
	return out, closed
}

// inBubble runs f in a synctest bubble whose blink timers run out before it ends.
func inBubble(t *testing.T, f func(t *testing.T)) {
	synctest.Test(t, func(t *testing.T) {
		f(t)
		time.Sleep(time.Second)
		synctest.Wait()
	})
}

func typed(s string) []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

var (
	enter = tea.KeyPressMsg{Code: tea.KeyEnter}
	esc   = tea.KeyPressMsg{Code: tea.KeyEscape}
	tab   = tea.KeyPressMsg{Code: tea.KeyTab}
	clr   = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
)

// Each prompt answers with its message and closes; a bad entry keeps it open and says what to type.
func TestPromptsAnswerOrExplain(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := common.NewContext(theme.New(true, true), nil, nil)
		for _, tc := range []struct {
			name     string
			m        *Model
			bad, ok  string
			badSays  string
			want     tea.Msg
			wantBody string
		}{
			{"go to", Goto(ctx), "2024 03 01", "1396000115.1", "neither a unique ID", GotoMsg{Lookup: cdr.ByID("1396000115.1")}, "Go to call"},
			{"page of 7", Page(ctx, 2, 7), "8", "7", "Pages 1 to 7.", PageMsg{Page: 7}, "Go to page"},
			{"page of unknown", Page(ctx, 1, 0), "0", "40", "Page numbers start at 1.", PageMsg{Page: 40}, "Go to page"},
			{"page size", PageSize(ctx, 100), "100001", "250", "from 1 to 100000", PageSizeMsg{Size: 250}, "Page size"},
		} {
			m := tc.m
			m.SetSize(90, 20)
			m.Focus()
			keys := append([]tea.KeyPressMsg{clr}, typed(tc.bad)...)
			if out, closed := drive(m, append(keys, enter)...); closed || len(out) != 0 {
				t.Errorf("%s: %q was taken: %v", tc.name, tc.bad, out)
			}
			if v := strings.Join(strings.Fields(strings.ReplaceAll(ansi.Strip(m.View()), "│", "")), " "); !strings.Contains(v, tc.badSays) || !strings.Contains(v, tc.wantBody) {
				t.Errorf("%s: the prompt does not say %q:\n%s", tc.name, tc.badSays, ansi.Strip(m.View()))
			}
			keys = append([]tea.KeyPressMsg{clr}, typed(tc.ok)...)
			out, closed := drive(m, append(keys, enter)...)
			if !closed || len(out) != 1 || out[0] != tc.want {
				t.Errorf("%s: %q gave %v (closed %v), want %v", tc.name, tc.ok, out, closed, tc.want)
			}
		}
	})
}

// esc closes without asking for anything; tab moves between the fields of a two-field prompt and is not a key of
// a one-field prompt.
func TestPromptKeys(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := common.NewContext(theme.New(true, true), nil, nil)
		m := Range(ctx, day(2026, 11, 1), time.Time{})
		m.SetSize(90, 20)
		m.Focus()
		if v := m.Values(); v[0] != "2026-11-01" || v[1] != "" {
			t.Fatalf("prefilled %q", v)
		}
		drive(m, tab)
		drive(m, typed("2026-11-03")...)
		drive(m, tab, clr) // back round to "from"
		drive(m, typed("2026-11-02")...)
		if v := m.Values(); v[0] != "2026-11-02" || v[1] != "2026-11-03" {
			t.Fatalf("tab did not move between the fields: %q", v)
		}
		if out, closed := drive(m, esc); !closed || len(out) != 0 || m.Focused() {
			t.Fatalf("esc: %v, closed %v", out, closed)
		}
		g := Goto(ctx)
		if g.Keys.Next.Enabled() || g.Keys.Prev.Enabled() {
			t.Fatal("a one-field prompt offers to move between fields")
		}
		if len(g.ShortHelp()) == 0 || len(g.FullHelp()) == 0 {
			t.Fatal("no help")
		}
	})
}

// A prompt fits the width it is given, its hint and errors wrapped.
func TestPromptFits(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := common.NewContext(theme.New(true, true), nil, nil)
		for _, w := range []int{30, 50, 120} {
			m := Range(ctx, day(2026, 11, 1), day(2026, 11, 2))
			m.SetSize(w, 30)
			m.Focus()
			drive(m, tab, clr)
			drive(m, typed("2026-10-01")...)
			drive(m, enter)
			for _, l := range strings.Split(m.View(), "\n") {
				if ansi.StringWidth(l) > w {
					t.Fatalf("width %d: line %q is %d wide", w, ansi.Strip(l), ansi.StringWidth(l))
				}
			}
		}
	})
}
