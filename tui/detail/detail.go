// Package detail is the pane that shows every field of the selected call, extended fields and recording
// included.
package detail

import (
	"path"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/tui/common"
)

// KeyMap is the pane's bindings (the root toggles the pane; the pane itself only closes).
type KeyMap struct {
	Close key.Binding
}

// Model is the detail pane.
type Model struct {
	ctx   *common.Context
	Keys  KeyMap
	rec   *cdr.Record
	names map[string]string
	w, h  int
}

// New returns an empty pane.
func New(ctx *common.Context) *Model {
	return &Model{ctx: ctx, Keys: KeyMap{
		Close: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "hide details")),
	}}
}

// SetNames gives the extension → name map used when the record has no friendly name.
func (m *Model) SetNames(names map[string]string) { m.names = names }

// Record is the call shown, nil for none.
func (m *Model) Record() *cdr.Record { return m.rec }

func (m *Model) SetSize(w, h int) { m.w, m.h = w, h }

// Update follows the selection.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if s, ok := msg.(common.SelectionChanged); ok {
		if s.Record == nil {
			m.rec = nil
		} else {
			r := *s.Record
			m.rec = &r
		}
	}
	return nil
}

// Fields are the label/value pairs shown, in order; unknown values say so rather than show blanks.
func (m *Model) Fields() [][2]string {
	r := m.rec
	if r == nil {
		return nil
	}
	unknown := func(s string) string {
		if s == "" {
			return "—"
		}
		return s
	}
	secs := func(s int) string {
		if s < 0 {
			return "not reported"
		}
		return common.Duration(s) + " (" + itoa(s) + " s)"
	}
	name := r.FriendlyName
	if name == "" {
		name = m.names[r.Extension]
	}
	start := "—"
	if !r.Start.IsZero() {
		start = r.Start.Format("2006-01-02 15:04:05 -07:00 (Mon)")
	}
	f := [][2]string{
		{"Unique ID", unknown(r.UniqueID)},
		{"Start", start},
		{"Type", common.TypeGlyph(r.CallType) + " " + unknown(string(r.CallType)) + raw(r.RawCallType, string(r.CallType))},
		{"Extension", unknown(r.Extension)},
		{"Name", unknown(name)},
		{"Dialled", unknown(r.DialledNumber)},
		{"Caller ID", unknown(r.CallerID)},
		{"Disposition", unknown(string(r.Disposition)) + raw(r.RawDisposition, string(r.Disposition))},
		{"Duration", secs(r.DurationS)},
		{"Billable", secs(r.BillableS)},
	}
	if r.Epoch > 0 {
		f = append(f, [2]string{"Epoch", itoa64(r.Epoch)})
	}
	if r.Extended || r.AccountCode != "" || r.Channel != "" || r.DestChannel != "" {
		f = append(f,
			[2]string{"Account code", unknown(r.AccountCode)},
			[2]string{"Channel", unknown(r.Channel)},
			[2]string{"Dest channel", unknown(r.DestChannel)},
		)
	}
	if r.HasRecording() {
		size := common.Bytes(r.RecordingSize)
		f = append(f,
			[2]string{"Recording", path.Base(r.Recording)},
			[2]string{"Format", recordingFormat(r.Recording)},
			[2]string{"Size", size},
			[2]string{"Length", secs(r.BillableS)},
		)
	} else {
		f = append(f, [2]string{"Recording", "none"})
	}
	return f
}

// recordingFormat is the format the file name says; the player sniffs the bytes when it fetches them.
func recordingFormat(name string) string {
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".wav", ".wave":
		return "WAV"
	case ".gsm":
		return "GSM 06.10"
	case "":
		return "unknown until fetched"
	default:
		return strings.TrimPrefix(ext, ".")
	}
}

func raw(raw, word string) string {
	if raw == "" || strings.EqualFold(raw, word) {
		return ""
	}
	return " (" + raw + ")"
}

func (m *Model) View() string {
	st := &m.ctx.Styles
	inner := max(1, m.w-4)
	var lines []string
	lines = append(lines, st.Title.Render(ansi.Truncate("Call details", inner, "…")))
	if m.rec == nil {
		lines = append(lines, st.Muted.Render("no call selected"))
	}
	const labelW = 13
	for _, kv := range m.Fields() {
		label := st.Label.Render(padRight(kv[0], labelW))
		v := safetext.Terminal(kv[1]) // the PBX's text: shown, never run by the terminal
		vw := inner - labelW - 1
		if vw < 4 {
			lines = append(lines, label)
			continue
		}
		// Wrap long values (channels, file names) rather than cut them: people copy them into tickets.
		wrapped := strings.Split(ansi.Hardwrap(v, vw, true), "\n")
		for i, wl := range wrapped {
			if i == 0 {
				lines = append(lines, label+" "+st.Value.Render(wl))
			} else {
				lines = append(lines, strings.Repeat(" ", labelW+1)+st.Value.Render(wl))
			}
		}
	}
	innerH := max(1, m.h-2)
	if len(lines) > innerH {
		lines = lines[:innerH]
	}
	return st.Pane.Width(m.w).Height(m.h).Render(strings.Join(lines, "\n"))
}

func padRight(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

func itoa(n int) string { return itoa64(int64(n)) }

func itoa64(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func (m *Model) ShortHelp() []key.Binding  { return []key.Binding{m.Keys.Close} }
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{{m.Keys.Close}} }
