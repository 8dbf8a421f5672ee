package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/callscope/callscope/client/cdr"
	engine "github.com/callscope/callscope/client/export"
	"github.com/callscope/callscope/client/transport"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

type sliceRows []cdr.Record

func (s sliceRows) Len() int            { return len(s) }
func (s sliceRows) At(i int) cdr.Record { return s[i] }

// httpSource is a small real cdr.Source serving recordings over loopback HTTP through the product's transport.
type httpSource struct {
	base *url.URL
	tc   *transport.Client
}

func (s *httpSource) Describe() string                          { return "test " + s.base.String() }
func (s *httpSource) Capabilities() cdr.Capabilities            { return cdr.Capabilities{Kind: "test"} }
func (s *httpSource) Zone() cdr.ZoneInfo                        { return cdr.ZoneInfo{} }
func (s *httpSource) Users(context.Context) ([]cdr.User, error) { return nil, nil }
func (s *httpSource) Calls(context.Context, cdr.Query, func(cdr.Record) error) (cdr.Result, error) {
	return cdr.Result{}, nil
}
func (s *httpSource) Call(_ context.Context, l cdr.Lookup) (cdr.Record, error) {
	return cdr.Record{}, cdr.NotFoundError(l)
}
func (s *httpSource) Recording(ctx context.Context, l cdr.Lookup) (*cdr.Recording, error) {
	if l.Record == nil || !l.Record.HasRecording() {
		return nil, cdr.NoRecordingError(l)
	}
	u := *s.base
	u.Path = "/rec/" + url.PathEscape(l.Record.Recording)
	resp, err := s.tc.Get(ctx, transport.Request{URL: &u})
	if err != nil {
		return nil, err
	}
	format := ""
	if strings.HasSuffix(l.Record.Recording, ".wav") {
		format = "wav"
	}
	return &cdr.Recording{ReadCloser: resp.Body, Name: l.Record.Recording, Format: format, Size: resp.ContentLength}, nil
}

// recordingServer serves files; a request for a name in held waits for its channel to close first ("" holds
// every request).
func recordingServer(t *testing.T, files map[string][]byte, held map[string]chan struct{}) *httpSource {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/rec/"))
		data, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		gate, ok := held[name]
		if !ok {
			gate = held[""]
		}
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	tc, err := transport.New(transport.Config{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &httpSource{base: u, tc: tc}
}

var zone = time.FixedZone("PBX", 2*3600)

func calls(n int) sliceRows {
	rows := make(sliceRows, n)
	d0 := time.Date(2024, 3, 1, 9, 0, 0, 0, zone)
	for i := range rows {
		rows[i] = cdr.Record{
			UniqueID: fmt.Sprintf("17092%05d.%d", i, i%3), Start: d0.Add(time.Duration(i) * 7 * time.Minute),
			CallType: cdr.CallInbound, Extension: fmt.Sprint(200 + i%4), CallerID: `"Smith, John" <0215550` + fmt.Sprint(i) + ">",
			Disposition: cdr.DispAnswered, DurationS: 30 + i, BillableS: 25 + i, RecordingSize: cdr.Unknown,
			FriendlyName: "Désirée " + fmt.Sprint(i),
		}
		if i%2 == 0 {
			rows[i].Recording = fmt.Sprintf("2024/03/01/rec-%d.wav", i)
			rows[i].RecordingSize = 1000
		}
	}
	if n > 1 {
		rows[1].DurationS = cdr.Unknown
	}
	return rows
}

func newModel(t *testing.T, src cdr.Source, w, h int) *Model {
	t.Helper()
	now := func() time.Time { return time.Date(2024, 3, 1, 15, 4, 0, 0, zone) }
	ctx := common.NewContext(theme.New(true, false), nil, now)
	m := New(ctx, Options{Source: src, Dir: t.TempDir()})
	m.SetSize(w, h)
	return m
}

// drive runs cmd and feeds every message it leads to back into m, as the runtime would, and returns them.
func drive(t *testing.T, m *Model, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	var out []tea.Msg
	for cmd != nil {
		done := make(chan tea.Msg, 1)
		go func() { done <- cmd() }()
		var msg tea.Msg
		select {
		case msg = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a Cmd did not return")
		}
		if msg == nil {
			break
		}
		if batch, ok := msg.(tea.BatchMsg); ok {
			cmd = nil
			for _, c := range batch {
				out = append(out, drive(t, m, c)...)
			}
			continue
		}
		out = append(out, msg)
		cmd = m.Update(msg)
	}
	return out
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestExportWritesTheOneCSVRowByRow(t *testing.T) {
	m := newModel(t, nil, 80, 24)
	rows := calls(25)
	drive(t, m, m.Update(common.ExportRequest{Rows: rows, Marked: true}))
	if m.State() != Prompting {
		t.Fatalf("state %v after the request", m.State())
	}
	want := filepath.Join(m.opts.Dir, "calls-20240301-1504.csv")
	if m.input.Value() != want {
		t.Fatalf("default path %q, want %q", m.input.Value(), want)
	}
	msgs := drive(t, m, m.Update(press("enter")))
	if m.State() != Done || m.Err() != nil {
		t.Fatalf("state %v err %v", m.State(), m.Err())
	}
	var status string
	for _, msg := range msgs {
		if s, ok := msg.(common.StatusMsg); ok {
			status = s.Text
		}
	}
	if !strings.Contains(status, "exported 25 calls to "+want) {
		t.Fatalf("status %q", status)
	}
	got := readCSV(t, want)
	if len(got) != len(rows)+1 {
		t.Fatalf("%d CSV records, want header + %d", len(got), len(rows))
	}
	if strings.Join(got[0], ",") != strings.Join(cdr.Columns, ",") {
		t.Fatalf("header %v", got[0])
	}
	for i, r := range rows {
		if strings.Join(got[i+1], "\x1f") != strings.Join(r.Fields(), "\x1f") {
			t.Fatalf("row %d:\n got %q\nwant %q", i, got[i+1], r.Fields())
		}
	}
	// Byte for byte what the one writer produces for `calls --format csv`.
	var buf bytes.Buffer
	cw := cdr.NewCSVWriter(&buf)
	for i := range rows {
		cw.Write(&rows[i])
	}
	cw.Flush()
	file, _ := os.ReadFile(want)
	if !bytes.Equal(file, buf.Bytes()) {
		t.Fatal("export differs from cdr.CSVWriter's output")
	}
	if st, _ := os.Stat(want); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", st.Mode())
	}
	if ents, _ := os.ReadDir(m.opts.Dir); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	drive(t, m, m.Update(press("enter")))
	if m.State() != Closed {
		t.Fatal("enter did not close the finished dialog")
	}
}

func TestNeverOverwritesSilently(t *testing.T) {
	m := newModel(t, nil, 80, 24)
	path := filepath.Join(m.opts.Dir, "calls.csv")
	os.WriteFile(path, []byte("precious\n"), 0o644)
	drive(t, m, m.Open(calls(3), false))
	m.Update(press("ctrl+u"))
	typeText(m, path)
	drive(t, m, m.Update(press("enter")))
	if m.State() != Confirming {
		t.Fatalf("state %v, want a question", m.State())
	}
	if !strings.Contains(ansi.Strip(m.View()), "calls.csv already exists") {
		t.Fatalf("view:\n%s", ansi.Strip(m.View()))
	}
	drive(t, m, m.Update(press("n")))
	if b, _ := os.ReadFile(path); string(b) != "precious\n" || m.State() != Prompting {
		t.Fatalf("after n: state %v, file %q", m.State(), b)
	}
	drive(t, m, m.Update(press("enter")))
	drive(t, m, m.Update(press("y")))
	if m.State() != Done || len(readCSV(t, path)) != 4 {
		t.Fatalf("after y: state %v err %v", m.State(), m.Err())
	}
}

func TestWriteCSVRefusesAFileThatAppearedSinceAsked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "late.csv")
	os.WriteFile(path, []byte("late\n"), 0o644)
	_, err := WriteCSV(context.Background(), path, calls(2), engine.CSVOptions{})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "late\n" {
		t.Fatal("the file was replaced")
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestBadPathsSayWhatToDo(t *testing.T) {
	m := newModel(t, nil, 80, 24)
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(m.opts.Dir, "nope", "x.csv"), "does not exist"},
		{m.opts.Dir, "is a folder"},
		{"   ", "type a file name"},
	} {
		drive(t, m, m.Open(calls(1), false))
		m.Update(press("ctrl+u"))
		typeText(m, tc.path)
		drive(t, m, m.Update(press("enter")))
		if m.State() != Prompting || m.Err() == nil || !strings.Contains(m.Err().Error(), tc.want) {
			t.Fatalf("%q: state %v err %v", tc.path, m.State(), m.Err())
		}
		if !strings.Contains(ansi.Strip(m.View()), tc.want) {
			t.Fatalf("%q: error not on screen", tc.path)
		}
	}
	ro := filepath.Join(m.opts.Dir, "ro")
	os.Mkdir(ro, 0o500)
	if os.Geteuid() != 0 { // root writes anywhere
		if _, err := WriteCSV(context.Background(), filepath.Join(ro, "x.csv"), calls(1), engine.CSVOptions{}); err == nil ||
			!strings.Contains(err.Error(), "cannot write in") {
			t.Fatalf("read-only folder: %v", err)
		}
	}
}

func TestExportWithRecordings(t *testing.T) {
	rows := calls(12)
	files := map[string][]byte{}
	for i, r := range rows {
		if r.Recording != "" && i != 4 { // call 4's recording is missing on the PBX
			files[r.Recording] = bytes.Repeat([]byte{byte(i)}, 1000+i)
		}
	}
	// Hostile and colliding IDs still give safe, unique names.
	rows[0].UniqueID = "../../etc/passwd"
	rows[2].UniqueID = "a/b"
	rows[6].UniqueID = "a_b"
	rows[8].UniqueID = ""
	src := recordingServer(t, files, nil)
	m := newModel(t, src, 80, 24)
	drive(t, m, m.Open(rows, false))
	m.Update(press("tab"))
	m.Update(press("space"))
	if !m.withRec {
		t.Fatal("space on the checkbox did not select recordings")
	}
	msgs := drive(t, m, m.Update(press("enter")))
	if m.State() != Done {
		t.Fatalf("state %v err %v", m.State(), m.Err())
	}
	progress := 0
	for _, msg := range msgs {
		if _, ok := msg.(progressMsg); ok {
			progress++
		}
	}
	if progress == 0 {
		t.Fatal("no progress messages")
	}
	r := m.result
	if r.saved != 5 || r.failed != 1 || r.firstErr == nil || !strings.Contains(r.firstErr.Error(), "404") {
		t.Fatalf("result %+v", r)
	}
	dir := RecordingsDir(m.Path())
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	// Call 8 (no ID) started at 09:56; call 10 is the one ordinary ID left.
	want := "1709200010.1.wav _._.._etc_passwd.wav a_b-2.wav a_b.wav call-20240301-095600.wav"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("files %v", names)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "a_b.wav"))
	if !bytes.Equal(b, files[rows[2].Recording]) {
		t.Fatal("a_b.wav holds the wrong recording")
	}
	if out, _ := os.ReadDir(filepath.Dir(m.Path())); len(out) != 2 {
		t.Fatalf("beside the CSV: %v", out)
	}
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "5 of 6 recordings") || !strings.Contains(v, "1 failed") {
		t.Fatalf("done view:\n%s", v)
	}
}

func TestCancelStopsRecordings(t *testing.T) {
	rows := calls(6)
	files := map[string][]byte{}
	for _, r := range rows {
		if r.Recording != "" {
			files[r.Recording] = []byte("RIFF....WAVE")
		}
	}
	gate := make(chan struct{}) // the PBX never answers
	src := recordingServer(t, files, map[string]chan struct{}{"": gate})
	m := newModel(t, src, 80, 24)
	drive(t, m, m.Open(rows, false))
	m.Update(press("tab"))
	m.Update(press("x"))
	cmd := m.Update(press("enter"))
	// Run until the recordings start, then press esc.
	for m.State() != Writing || m.prog.total == 0 {
		msg := cmd()
		cmd = m.Update(msg)
	}
	m.Update(press("esc"))
	drive(t, m, cmd)
	if m.State() != Done || !m.result.cancelled || m.result.saved != 0 {
		t.Fatalf("state %v result %+v", m.State(), m.result)
	}
	if !strings.Contains(ansi.Strip(m.View()), "Stopped before the end") {
		t.Fatalf("view:\n%s", ansi.Strip(m.View()))
	}
}

func TestLateAnswerAfterCloseIsDropped(t *testing.T) {
	m := newModel(t, nil, 80, 24)
	drive(t, m, m.Open(calls(2), false))
	cmd := m.Update(press("enter"))
	m.Update(press("esc"))
	if m.State() != Closed {
		t.Fatal("esc while checking did not close")
	}
	m.Update(cmd())
	if m.State() != Closed {
		t.Fatalf("a late answer reopened the dialog: %v", m.State())
	}
}

// TestGoldenScreens draws every state of the dialog at two widths, one narrower than the dialog's own 76 columns
// and one wider, each reached through Update: the keys, and the messages the dialog's Cmds answer with. Two of
// those answers are given rather than run, so nothing is written outside the test's folder: where the CSV
// would go (a stable path on screen, /tmp/exports/…), and that it was written. The recordings are downloaded
// for real, from a loopback server that holds the eighth back until the progress frame is drawn.
func TestGoldenScreens(t *testing.T) {
	rows := calls(40)
	files := map[string][]byte{}
	for i, r := range rows {
		if r.Recording != "" && i != 4 { // call 4's recording is missing on the PBX
			files[r.Recording] = bytes.Repeat([]byte{byte(i)}, 125_000)
		}
	}
	held := rows[14] // the eighth recording
	port := regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
	for _, w := range []int{60, 120} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			gate := make(chan struct{})
			src := recordingServer(t, files, map[string]chan struct{}{held.Recording: gate})
			now := func() time.Time { return time.Date(2024, 3, 1, 15, 4, 0, 0, zone) }
			m := New(common.NewContext(theme.New(true, false), nil, now), Options{Source: src, Dir: "exports"})
			m.SetSize(w, 24)
			var b strings.Builder
			frame := func() { b.WriteString(m.View() + "\n") }

			m.Update(common.ExportRequest{Rows: rows, Marked: true})
			m.Update(press("tab"))
			m.Update(press("space"))
			frame()
			m.Update(press("enter")) // the check's Cmd is not run: its answer is given below
			frame()
			recDir := filepath.Join(t.TempDir(), "calls-20240301-1504-recordings")
			m.Update(checkedMsg{gen: m.gen, path: "/tmp/exports/calls-20240301-1504.csv", recDir: recDir,
				existing: []string{"calls-20240301-1504.csv"}})
			frame()
			m.Update(press("y")) // the CSV's Cmd is not run either
			frame()
			cmd := m.Update(csvMsg{gen: m.gen, rows: 40})
			for m.prog.current != held.UniqueID {
				cmd = step(t, m, cmd)
			}
			frame()
			close(gate)
			for m.State() != Done {
				cmd = step(t, m, cmd)
			}
			b.WriteString(m.View())
			for _, l := range strings.Split(b.String(), "\n") {
				if ansi.StringWidth(l) > w {
					t.Fatalf("line wider than %d: %q", w, ansi.Strip(l))
				}
			}
			// The server's port is in the error, five digits from the system's range: the same width every time.
			golden.RequireEqual(t, port.ReplaceAllStringFunc(ansi.Strip(b.String()), func(s string) string {
				return "127.0.0.1:" + strings.Repeat("N", len(s)-len("127.0.0.1:"))
			}))
		})
	}
}

// step runs one Cmd of the dialog's (the first part of a batch) and hands its message to Update.
func step(t *testing.T, m *Model, cmd tea.Cmd) tea.Cmd {
	t.Helper()
	if cmd == nil {
		t.Fatalf("the dialog stopped in state %v", m.State())
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		if b, ok := msg.(tea.BatchMsg); ok {
			return b[0]
		}
		return m.Update(msg)
	case <-time.After(10 * time.Second):
		t.Fatalf("a Cmd did not return (state %v)", m.State())
	}
	return nil
}

// BenchmarkWriteCSV writes 100,000 calls, what exporting a big day costs.
func BenchmarkWriteCSV(b *testing.B) {
	rows := calls(100_000)
	path := filepath.Join(b.TempDir(), "bench.csv")
	for b.Loop() {
		if _, err := WriteCSV(context.Background(), path, rows, engine.CSVOptions{Overwrite: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestProgressBarFollowsTheme: the terminal's light/dark answer arrives after start-up; the progress bar drawn
// after it must be in the new theme's colours, as a dialog made in that theme draws it.
func TestProgressBarFollowsTheme(t *testing.T) {
	writing := func(m *Model) string {
		m.SetSize(80, 24)
		m.state, m.path = Writing, "/tmp/calls.csv"
		m.result.rows = 3
		m.prog = progressMsg{gen: 1, done: 1, total: 2}
		return m.View()
	}
	ctx := common.NewContext(theme.New(true, false), nil, nil)
	m := New(ctx, Options{})
	dark := writing(m)
	ctx.SetTheme(theme.New(false, false))
	got := writing(m)
	want := writing(New(common.NewContext(theme.New(false, false), nil, nil), Options{}))
	if got == dark {
		t.Fatal("the test cannot tell the themes apart")
	}
	if got != want {
		t.Fatalf("after the switch to light the dialog draws\n%q\nwant\n%q", got, want)
	}
}
