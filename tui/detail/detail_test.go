package detail

import (
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

var pbx = time.FixedZone("UTC+02:00", 2*3600)

func newPane(w, h int) *Model {
	m := New(common.NewContext(theme.New(true, true), nil, nil))
	m.SetSize(w, h)
	return m
}

func show(m *Model, r cdr.Record) { m.Update(common.SelectionChanged{Record: &r}) }

// field is the value shown for label, and whether it is shown at all.
func field(m *Model, label string) (string, bool) {
	for _, kv := range m.fields() {
		if kv[0] == label {
			return kv[1], true
		}
	}
	return "", false
}

func TestFieldsSayWhatIsKnown(t *testing.T) {
	full := cdr.Record{UniqueID: "1709290000.77", Start: time.Date(2024, 3, 1, 9, 5, 7, 0, pbx), Epoch: 1709276707,
		CallType: cdr.CallInbound, RawCallType: "INBOUND", Extension: "201", CallerID: "0215550123",
		DialledNumber: "201", Disposition: cdr.DispAnswered, DurationS: 130, BillableS: 117,
		Recording: "2024/03/01/in-1709290000.77.gsm", RecordingSize: 9*1650 + 33, Extended: true,
		AccountCode: "SALES", Channel: "SIP/trunk-0001", DestChannel: "SIP/201-0002"}
	bare := cdr.Record{Start: time.Date(2024, 3, 1, 9, 5, 7, 0, pbx), CallType: cdr.CallType("transfer"),
		RawCallType: "TRANSFER", Disposition: cdr.Disposition("lost"), DurationS: cdr.Unknown, BillableS: 0}
	wav := full
	wav.Recording, wav.RecordingSize = "in.WAV", 48044
	for _, tc := range []struct {
		name  string
		r     cdr.Record
		names map[string]string
		want  map[string]string // label → value; "" means the field is not shown
	}{
		{"a full call", full, map[string]string{"201": "Reception"}, map[string]string{
			"Unique ID":    "1709290000.77",
			"Start":        "2024-03-01 09:05:07 +02:00 (Fri)",
			"Type":         "↓ inbound", // the PBX's word is the same word: not repeated
			"Extension":    "201 Reception",
			"Caller ID":    "0215550123",
			"Disposition":  "answered",
			"Duration":     "2:10 (130 s)",
			"Billable":     "1:57 (117 s)",
			"Recording":    "in-1709290000.77.gsm",
			"Format":       "GSM 06.10",
			"Size":         "14.9 kB",
			"Length":       "0:09", // from the size: raw GSM's frames are all alike
			"Epoch":        "1709276707",
			"Account code": "SALES",
			"Dest channel": "SIP/201-0002",
		}},
		{"a friendly name wins over the users list", func() cdr.Record { r := full; r.FriendlyName = "Thandi"; return r }(),
			map[string]string{"201": "Reception"}, map[string]string{"Extension": "201 Thandi"}},
		{"a WAV's length is known once played", wav, nil, map[string]string{"Format": "WAV", "Length": "known once played (enter)"}},
		{"what the PBX did not say", bare, nil, map[string]string{
			"Unique ID":    "—",
			"Type":         "· transfer",
			"Extension":    "—",
			"Dialled":      "—",
			"Disposition":  "lost",
			"Duration":     "not reported",
			"Billable":     "0:00 (0 s)",
			"Recording":    "none",
			"Format":       "",
			"Epoch":        "",
			"Account code": "",
		}},
	} {
		m := newPane(60, 30)
		m.SetNames(tc.names)
		show(m, tc.r)
		for label, want := range tc.want {
			got, ok := field(m, label)
			if want == "" && ok {
				t.Errorf("%s: %s shown as %q, want it left out", tc.name, label, got)
			} else if want != "" && got != want {
				t.Errorf("%s: %s = %q, want %q", tc.name, label, got, want)
			}
		}
	}
	m := newPane(60, 30)
	r := full
	r.RawCallType = "CALLTYPE_QUEUE"
	show(m, r)
	if got, _ := field(m, "Type"); got != "↓ inbound (CALLTYPE_QUEUE)" {
		t.Errorf("a raw word that differs is kept beside ours: %q", got)
	}
}

// The pane follows the selection (a copy: the table's row may change under it) and says when there is none.
func TestFollowsTheSelection(t *testing.T) {
	m := newPane(60, 20)
	if v := ansi.Strip(m.View()); !strings.Contains(v, "no call selected") {
		t.Fatalf("empty pane:\n%s", v)
	}
	r := cdr.Record{UniqueID: "1.1", Extension: "201"}
	m.Update(common.SelectionChanged{Record: &r})
	r.UniqueID = "changed under it"
	if got, _ := field(m, "Unique ID"); got != "1.1" {
		t.Fatalf("the pane shares the table's record: %q", got)
	}
	m.Update(common.SelectionChanged{})
	if m.fields() != nil || !strings.Contains(ansi.Strip(m.View()), "no call selected") {
		t.Fatal("a selection of nothing still shows a call")
	}
}

// The length the player decoded replaces the estimate; the lengths remembered are bounded.
func TestRecordingLengthFromThePlayer(t *testing.T) {
	m := newPane(60, 30)
	r := cdr.Record{UniqueID: "7.1", Recording: "x.wav", RecordingSize: 1000}
	show(m, r)
	m.SetRecordingLength(common.CallKey(&r), 83*time.Second+600*time.Millisecond)
	if got, _ := field(m, "Length"); got != "1:24" {
		t.Fatalf("Length %q, want the decoded 1:24", got)
	}
	for i := range maxPlayed + 5 {
		m.SetRecordingLength(strings.Repeat("k", i+1), time.Second)
	}
	if len(m.played) > maxPlayed {
		t.Fatalf("%d lengths remembered, bound %d", len(m.played), maxPlayed)
	}
}

// A short pane scrolls its fields (J/K, the wheel) under a title that says where it is; the position is kept
// within the fields and from call to call.
func TestScrolls(t *testing.T) {
	m := newPane(50, 8) // 5 field lines under the title
	r := cdr.Record{UniqueID: "9.9", Recording: "a.gsm", RecordingSize: 3300, Extended: true, Epoch: 1}
	show(m, r)
	n := len(m.fields())
	if v := ansi.Strip(m.View()); !strings.Contains(v, "1–5 of ") || !strings.Contains(v, "J/K scroll") {
		t.Fatalf("title does not say the fields scroll:\n%s", v)
	}
	for _, k := range []tea.KeyPressMsg{{Code: 'J', Text: "J"}, {Code: tea.KeyDown, Mod: tea.ModShift}} {
		if !m.Owns(k) {
			t.Fatalf("%v is not the pane's", k)
		}
		m.Update(k)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "3–7 of ") {
		t.Fatalf("after two steps down:\n%s", v)
	}
	for range 5 {
		m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "–"+strconv.Itoa(n)+" of "+strconv.Itoa(n)) {
		t.Fatalf("scrolling past the end does not stop at the last field:\n%s", v)
	}
	show(m, cdr.Record{UniqueID: "9.8", Recording: "b.gsm", RecordingSize: 3300, Extended: true, Epoch: 1})
	if v := ansi.Strip(m.View()); strings.Contains(v, "1–5 of ") {
		t.Fatalf("the next call lost the scroll position:\n%s", v)
	}
	for range 20 {
		m.Update(tea.KeyPressMsg{Code: 'K', Text: "K"})
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "1–5 of ") {
		t.Fatalf("scrolling up stops at the first field:\n%s", v)
	}
	if m.Owns(tea.KeyPressMsg{Code: 'j', Text: "j"}) {
		t.Fatal("the pane takes the table's j")
	}
}

// The pane is exactly its size; long values wrap rather than being cut (people copy channels into tickets); the
// PBX's text shows as text.
func TestViewFitsAndShowsTextAsText(t *testing.T) {
	r := cdr.Record{UniqueID: "1.2\x1b[2J", Extended: true, Channel: "SIP/" + strings.Repeat("trunk-", 12) + "end",
		FriendlyName: "\x1b]0;PWNED\x07Eve"}
	for _, size := range [][2]int{{30, 10}, {50, 20}, {80, 40}} {
		m := newPane(size[0], size[1])
		show(m, r)
		for range 10 {
			m.Update(tea.KeyPressMsg{Code: 'J', Text: "J"})
		}
		v := m.View()
		lines := strings.Split(v, "\n")
		if len(lines) != size[1] {
			t.Fatalf("%v: %d lines", size, len(lines))
		}
		for _, l := range lines {
			if ansi.StringWidth(l) != size[0] {
				t.Fatalf("%v: a line is %d wide: %q", size, ansi.StringWidth(l), ansi.Strip(l))
			}
		}
		if strings.Contains(v, "\x1b]0;") || strings.Contains(v, "\x1b[2J") {
			t.Fatalf("%v: the PBX's escape sequences reach the terminal", size)
		}
	}
	m := newPane(50, 40)
	show(m, r)
	if v := strings.Join(strings.Fields(strings.ReplaceAll(ansi.Strip(m.View()), "│", "")), ""); !strings.Contains(v, "trunk-trunk-") || !strings.Contains(v, "end") {
		t.Fatalf("the long channel is cut, not wrapped:\n%s", ansi.Strip(m.View()))
	}
}
