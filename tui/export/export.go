// Package export is the export dialog: a path prompt with a default name, an option to save the recordings in a
// folder beside the CSV, a question before anything is overwritten, and a progress bar while recordings
// download. The CSV is written by cdr.CSVWriter, the same writer as `callscope calls --format csv`.
package export

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
	engine "github.com/callscope/callscope/client/export"
	"github.com/callscope/callscope/client/human"
	"github.com/callscope/callscope/client/reccache"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

// State is where the dialog is.
type State int

const (
	Closed     State = iota
	Prompting        // editing the path and options
	Checking         // looking whether the files exist
	Confirming       // asking before overwriting
	Writing          // the CSV, then the recordings
	Done             // showing the outcome
)

// KeyMap is the dialog's bindings.
type KeyMap struct {
	Submit    key.Binding
	Cancel    key.Binding
	NextField key.Binding
	Toggle    key.Binding
	Yes       key.Binding
	No        key.Binding
}

// DefaultKeyMap is the dialog's default bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Submit:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "export")),
		Cancel:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		NextField: key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "next field")),
		Toggle:    key.NewBinding(key.WithKeys("space", "x"), key.WithHelp("space", "toggle")),
		Yes:       key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "overwrite")),
		No:        key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "keep")),
	}
}

// Options set up the dialog.
type Options struct {
	// Source fetches recordings; nil disables the recordings option.
	Source cdr.Source
	// Cache, when set, supplies recordings already downloaded.
	Cache *reccache.Cache
	// Dir is where the default file goes; empty is the current directory.
	Dir string
	// CSVRaw writes the CSV's cells as the PBX sent them (--csv-raw); otherwise cells a spreadsheet would run
	// as formulas are neutralised.
	CSVRaw bool
}

// Model is the export dialog.
type Model struct {
	ctx  *common.Context
	opts Options
	Keys KeyMap

	width, height int
	state         State

	rows   common.Rows
	marked bool
	count  int

	input         textinput.Model
	onCheckbox    bool // the recordings checkbox has focus, not the path
	withRec       bool
	path          string // resolved path being written
	recDir        string
	existing      []string // what would be overwritten
	overwrite     bool
	err           error
	gen           int
	runCtx        context.Context // the running export's; cancelled by esc
	cancel        context.CancelFunc
	bar           progress.Model
	barTheme      theme.Theme // the theme bar was made in: the terminal's light/dark answer may come later
	prog          progressMsg
	result        finishedMsg
	recordingRows int // calls with a recording, the progress total
}

// New returns a closed dialog.
func New(ctx *common.Context, opts Options) *Model {
	ti := textinput.New()
	ti.Prompt = ""
	ti.CharLimit = 4096
	// A steady cursor: no blink ticks to schedule, and screens (tests, tmux captures) stay the same.
	tis := ti.Styles()
	tis.Cursor.Blink = false
	ti.SetStyles(tis)
	m := &Model{ctx: ctx, opts: opts, Keys: DefaultKeyMap(), input: ti}
	m.bar = m.newBar(40)
	return m
}

// newBar is a progress bar w cells wide in the current theme's colours.
func (m *Model) newBar(w int) progress.Model {
	m.barTheme = m.ctx.Theme
	if m.ctx.Theme.NoColor {
		return progress.New(progress.WithWidth(w), progress.WithFillCharacters('█', '░'))
	}
	return progress.New(progress.WithWidth(w), progress.WithColors(m.ctx.Theme.Accent))
}

// State is where the dialog is.
func (m *Model) State() State { return m.state }

// Path is the resolved CSV path of the current or last export.
func (m *Model) Path() string { return m.path }

// Err is the last error shown.
func (m *Model) Err() error { return m.err }

// Focus gives the dialog the keyboard (the root calls it after an ExportRequest).
func (m *Model) Focus() tea.Cmd {
	if m.state == Closed {
		return nil
	}
	if m.state == Prompting && !m.onCheckbox {
		return m.input.Focus()
	}
	return nil
}

// Blur takes the keyboard away.
func (m *Model) Blur() { m.input.Blur() }

// Focused reports whether the dialog is open.
func (m *Model) Focused() bool { return m.state != Closed }

// Open starts the dialog for rows (the marked ones when marked is set).
func (m *Model) Open(rows common.Rows, marked bool) tea.Cmd {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.gen++
	m.rows, m.marked = rows, marked
	m.count = 0
	if rows != nil {
		m.count = rows.Len()
	}
	m.state = Prompting
	m.err = nil
	m.onCheckbox = false
	m.overwrite = false
	m.existing = nil
	m.prog = progressMsg{}
	m.result = finishedMsg{}
	name := DefaultName(func() string { return m.ctx.Now().Format("20060102-1504") })
	if m.opts.Dir != "" {
		name = filepath.Join(m.opts.Dir, name)
	}
	m.input.SetValue(name)
	m.input.CursorEnd()
	return m.input.Focus()
}

// messages, each tagged with the export it belongs to.
type (
	checkedMsg struct {
		gen      int
		path     string
		recDir   string
		existing []string
		err      error
	}
	csvMsg struct {
		gen  int
		rows int
		err  error
	}
	progressMsg struct {
		gen     int
		done    int // recordings finished (saved or failed)
		total   int
		bytes   int64
		current string
		next    <-chan tea.Msg
	}
	finishedMsg struct {
		gen       int
		rows      int
		saved     int
		failed    int
		total     int // calls with a recording
		firstErr  error
		bytes     int64
		cancelled bool
	}
)

// Update drives the dialog.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.ExportRequest:
		return m.Open(msg.Rows, msg.Marked)
	case checkedMsg:
		if msg.gen != m.gen || m.state != Checking {
			return nil
		}
		if msg.err != nil {
			m.err = msg.err
			m.state = Prompting
			return m.input.Focus()
		}
		m.path, m.recDir, m.existing = msg.path, msg.recDir, msg.existing
		if len(msg.existing) > 0 {
			m.state = Confirming
			return nil
		}
		return m.start()
	case csvMsg:
		if msg.gen != m.gen {
			return nil
		}
		if msg.err != nil {
			m.err = msg.err
			m.state = Prompting
			return m.input.Focus()
		}
		m.result.rows = msg.rows
		if !m.withRec {
			m.state = Done
			m.result.gen = m.gen
			return common.Status(m.summaryLine())
		}
		return m.startRecordings()
	case progressMsg:
		if msg.gen != m.gen {
			return nil
		}
		m.prog = msg
		m.recordingRows = msg.total
		return waitFor(msg.next)
	case finishedMsg:
		if msg.gen != m.gen {
			return nil
		}
		rows := m.result.rows
		m.result = msg
		m.result.rows = rows
		m.recordingRows = msg.total
		m.state = Done
		m.cancel = nil
		return common.Status(m.summaryLine())
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	}
	if m.state == Prompting && !m.onCheckbox {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return cmd
	}
	return nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	switch m.state {
	case Prompting:
		switch {
		case key.Matches(msg, m.Keys.Cancel):
			return m.close()
		case key.Matches(msg, m.Keys.Submit):
			return m.submit()
		case key.Matches(msg, m.Keys.NextField):
			if m.opts.Source == nil {
				return nil
			}
			m.onCheckbox = !m.onCheckbox
			if m.onCheckbox {
				m.input.Blur()
				return nil
			}
			return m.input.Focus()
		case m.onCheckbox && key.Matches(msg, m.Keys.Toggle):
			m.withRec = !m.withRec
			return nil
		}
		if m.onCheckbox {
			return nil
		}
		m.err = nil
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return cmd
	case Checking:
		if key.Matches(msg, m.Keys.Cancel) {
			return m.close()
		}
	case Confirming:
		switch {
		case key.Matches(msg, m.Keys.Yes):
			m.overwrite = true
			return m.start()
		case key.Matches(msg, m.Keys.No):
			m.state = Prompting
			m.existing = nil
			return m.input.Focus()
		}
	case Writing:
		if key.Matches(msg, m.Keys.Cancel) && m.cancel != nil {
			m.cancel() // the goroutine finishes the file in hand and reports what was saved
		}
	case Done:
		if key.Matches(msg, m.Keys.Cancel) || key.Matches(msg, m.Keys.Submit) {
			return m.close()
		}
	}
	return nil
}

func (m *Model) close() tea.Cmd {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.gen++ // late answers to this export are dropped
	m.state = Closed
	m.input.Blur()
	return common.Cmd(common.CloseDialog{})
}

// submit resolves the path and, in a Cmd, looks at what is already there.
func (m *Model) submit() tea.Cmd {
	raw := strings.TrimSpace(m.input.Value())
	if raw == "" {
		m.err = fmt.Errorf("type a file name for the CSV")
		return nil
	}
	m.state = Checking
	m.err = nil
	m.input.Blur()
	gen, withRec := m.gen, m.withRec && m.opts.Source != nil
	m.withRec = withRec
	return func() tea.Msg { return check(gen, raw, withRec) }
}

// check expands ~, turns a directory into directory/default-name, and lists what would be overwritten.
func check(gen int, raw string, withRec bool) checkedMsg {
	p := raw
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, strings.TrimPrefix(p[1:], "/"))
		}
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return checkedMsg{gen: gen, err: fmt.Errorf("cannot use %q as a path: %v", raw, err)}
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return checkedMsg{gen: gen, err: fmt.Errorf("%s is a folder; add a file name such as calls.csv", raw)}
	}
	if st, err := os.Stat(filepath.Dir(abs)); err != nil || !st.IsDir() {
		return checkedMsg{gen: gen, err: fmt.Errorf("folder %s does not exist; create it or choose another", filepath.Dir(abs))}
	}
	c := checkedMsg{gen: gen, path: abs}
	if _, err := os.Lstat(abs); err == nil {
		c.existing = append(c.existing, filepath.Base(abs))
	}
	if withRec {
		c.recDir = RecordingsDir(abs)
		if st, err := os.Stat(c.recDir); err == nil {
			if !st.IsDir() {
				return checkedMsg{gen: gen, err: fmt.Errorf("%s exists and is not a folder; choose another CSV name", c.recDir)}
			}
			if ents, _ := os.ReadDir(c.recDir); len(ents) > 0 {
				c.existing = append(c.existing, filepath.Base(c.recDir)+"/")
			}
		}
	}
	return c
}

// start writes the CSV in a Cmd.
func (m *Model) start() tea.Cmd {
	m.state = Writing
	m.prog = progressMsg{}
	ctx, cancel := context.WithCancel(context.Background())
	m.runCtx, m.cancel = ctx, cancel
	gen, path, rows := m.gen, m.path, m.rows
	o := engine.CSVOptions{Overwrite: m.overwrite, Raw: m.opts.CSVRaw}
	return func() tea.Msg {
		n, err := WriteCSV(ctx, path, rows, o)
		return csvMsg{gen: gen, rows: n, err: err}
	}
}

// startRecordings saves the recordings in a goroutine that reports on a channel; each progress message carries
// the Cmd that waits for the next (glow's pattern).
func (m *Model) startRecordings() tea.Cmd {
	gen, rows, dir, ctx := m.gen, m.rows, m.recDir, m.runCtx
	src, cache := m.opts.Source, m.opts.Cache
	ch := make(chan tea.Msg, 1)
	go func() {
		defer close(ch)
		// The rows are read by the engine here, off Update: a million rows take a moment to scan.
		var total, done int
		var bytes int64
		sum, err := engine.Save(ctx, engineRows{rows}, engine.Options{Source: src, Cache: cache, Dir: dir,
			OnEvent: func(e engine.Event) {
				switch e.Kind {
				case engine.Planned:
					total = e.Files + e.Skipped
				case engine.Started:
					send(ctx, ch, progressMsg{gen: gen, done: done, total: total, bytes: bytes, current: e.Call.UniqueID})
				case engine.Progress:
					bytes += e.Bytes
				case engine.Saved, engine.Skipped, engine.Failed:
					done++
				}
			}})
		res := finishedMsg{gen: gen, total: sum.Total, saved: sum.Saved + sum.Skipped, failed: sum.Failed,
			firstErr: sum.FirstErr(), bytes: sum.Bytes, cancelled: sum.Cancelled}
		if err != nil { // the folder could not be made: every recording failed
			res.firstErr = err
			for i := range rows.Len() {
				if r := rows.At(i); r.HasRecording() {
					res.total++
				}
			}
			res.failed = res.total
		}
		ch <- res
	}()
	m.prog = progressMsg{gen: gen}
	return waitFor(ch)
}

// send delivers a progress message unless a newer one is already waiting: the bar needs the latest, not all.
func send(ctx context.Context, ch chan tea.Msg, msg progressMsg) {
	msg.next = ch
	select {
	case ch <- msg:
	default:
		select {
		case <-ch:
		default:
		}
		select {
		case ch <- msg:
		case <-ctx.Done():
		}
	}
}

func waitFor(ch <-chan tea.Msg) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		if p, isProg := msg.(progressMsg); isProg {
			p.next = ch
			return p
		}
		return msg
	}
}

// summaryLine is the outcome in one line, also sent to the status bar.
func (m *Model) summaryLine() string {
	r := m.result
	s := fmt.Sprintf("exported %d calls to %s", r.rows, m.path)
	if m.withRec {
		s += fmt.Sprintf("; %d recordings (%s) in %s", r.saved, human.Bytes(r.bytes), filepath.Base(m.recDir)+"/")
		if r.failed > 0 {
			s += fmt.Sprintf("; %d failed", r.failed)
		}
		if r.cancelled {
			s += "; stopped before the end"
		}
	}
	return s
}

// SetSize is the area the dialog may use; it draws at most 76 columns wide.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	iw := m.innerWidth()
	m.input.SetWidth(max(10, iw-8))
	m.bar.SetWidth(max(10, iw))
}

func (m *Model) innerWidth() int { return min(m.width, 76) - 4 }

// ShortHelp is the dialog's one-line help for its current state.
func (m *Model) ShortHelp() []key.Binding {
	switch m.state {
	case Prompting:
		b := []key.Binding{m.Keys.Submit}
		if m.opts.Source != nil {
			b = append(b, m.Keys.NextField)
			if m.onCheckbox {
				b = append(b, m.Keys.Toggle)
			}
		}
		return append(b, m.Keys.Cancel)
	case Confirming:
		return []key.Binding{m.Keys.Yes, m.Keys.No}
	case Writing:
		return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "stop"))}
	case Done:
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "close"))}
	}
	return nil
}

// FullHelp is the dialog's help page.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.Keys.Submit, m.Keys.NextField, m.Keys.Toggle, m.Keys.Cancel}, {m.Keys.Yes, m.Keys.No}}
}

// The root drives it through the one component contract.
var _ common.Focusable = (*Model)(nil)
