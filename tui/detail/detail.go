// Package detail is the pane that shows every field of the selected call, extended fields and recording
// included.
package detail

import (
	"path"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/human"
	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/fit"
)

// KeyMap is the pane's bindings while it is shown: the root toggles the pane (d) and hands it these keys, so
// the cursor keys go on moving through the calls while J/K scroll the fields.
type KeyMap struct {
	ScrollDown key.Binding
	ScrollUp   key.Binding
}

// Model is the detail pane.
type Model struct {
	ctx    *common.Context
	Keys   KeyMap
	rec    *cdr.Record
	names  map[string]string
	played map[string]time.Duration // recording lengths as decoded by the player, by call key
	offset int                      // first field line shown: the pane scrolls when it is shorter than the fields
	w, h   int
}

// maxPlayed bounds the lengths remembered: one per call played in this session is plenty.
const maxPlayed = 1000

// New returns an empty pane.
func New(ctx *common.Context) *Model {
	return &Model{ctx: ctx, Keys: KeyMap{
		ScrollDown: key.NewBinding(key.WithKeys("J", "shift+down"), key.WithHelp("J/K", "scroll details")),
		ScrollUp:   key.NewBinding(key.WithKeys("K", "shift+up"), key.WithHelp("K", "scroll details up")),
	}}
}

// SetRecordingLength records the length of a call's recording as decoded (by the player), so "Length" shows
// the file's real length rather than an estimate. key is the call's common.CallKey.
func (m *Model) SetRecordingLength(key string, d time.Duration) {
	if m.played == nil {
		m.played = map[string]time.Duration{}
	}
	if _, ok := m.played[key]; !ok && len(m.played) >= maxPlayed {
		clear(m.played)
	}
	m.played[key] = d
}

// SetNames gives the extension → name map used when the record has no friendly name.
func (m *Model) SetNames(names map[string]string) { m.names = names }

func (m *Model) SetSize(w, h int) { m.w, m.h = w, h }

// Update follows the selection and, when the root hands it keys or the wheel, scrolls. The scroll position is
// kept from call to call: someone reading the recording fields of one call wants them for the next.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.SelectionChanged:
		if msg.Record == nil {
			m.rec = nil
		} else {
			r := *msg.Record
			m.rec = &r
		}
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.Keys.ScrollDown):
			m.offset++
		case key.Matches(msg, m.Keys.ScrollUp):
			m.offset--
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelDown:
			m.offset += 3
		case tea.MouseWheelUp:
			m.offset -= 3
		}
	}
	return nil
}

// Owns reports whether a key is one of the pane's own while it is shown.
func (m *Model) Owns(msg tea.KeyPressMsg) bool {
	return key.Matches(msg, m.Keys.ScrollDown, m.Keys.ScrollUp)
}

// fields are the label/value pairs shown, in order; unknown values say so rather than show blanks.
func (m *Model) fields() [][2]string {
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
		return common.Duration(s) + " (" + strconv.Itoa(s) + " s)"
	}
	ext := unknown(r.Extension)
	name := r.FriendlyName
	if name == "" {
		name = m.names[r.Extension]
	}
	if name != "" {
		ext += " " + name
	}
	start := "—"
	if !r.Start.IsZero() {
		start = r.Start.Format("2006-01-02 15:04:05 -07:00 (Mon)")
	}
	// What a support person looks for first comes first; the technical fields last, so a short pane shows
	// the useful ones without scrolling.
	f := [][2]string{
		{"Unique ID", unknown(r.UniqueID)},
		{"Start", start},
		{"Type", common.TypeGlyph(r.CallType) + " " + unknown(string(r.CallType)) + raw(r.RawCallType, string(r.CallType))},
		{"Extension", ext},
		{"Dialled", unknown(r.DialledNumber)},
		{"Caller ID", unknown(r.CallerID)},
		{"Disposition", unknown(string(r.Disposition)) + raw(r.RawDisposition, string(r.Disposition))},
		{"Duration", secs(r.DurationS)},
		{"Billable", secs(r.BillableS)},
	}
	if r.HasRecording() {
		f = append(f,
			[2]string{"Recording", path.Base(r.Recording)},
			[2]string{"Format", recordingFormat(r.Recording)},
			[2]string{"Size", human.Bytes(r.RecordingSize)},
			[2]string{"Length", m.recordingLength(r)},
		)
	} else {
		f = append(f, [2]string{"Recording", "none"})
	}
	if r.Epoch > 0 {
		f = append(f, [2]string{"Epoch", strconv.FormatInt(r.Epoch, 10)})
	}
	if r.Extended || r.AccountCode != "" || r.Channel != "" || r.DestChannel != "" {
		f = append(f,
			[2]string{"Account code", unknown(r.AccountCode)},
			[2]string{"Channel", unknown(r.Channel)},
			[2]string{"Dest channel", unknown(r.DestChannel)},
		)
	}
	return f
}

// gsmBytesPerSecond is raw GSM 06.10's rate: a 33-byte frame per 20 ms.
const gsmBytesPerSecond = 33 * 50

// recordingLength is the recording's own length, which is not the billable time (a recording may start late,
// stop early or hold only part of the call): as the player decoded it, or computed from the size for raw GSM,
// whose frames are all the same size. Other formats say how long they are in their header, read when played.
func (m *Model) recordingLength(r *cdr.Record) string {
	if d, ok := m.played[common.CallKey(r)]; ok {
		return common.Duration(int(d.Round(time.Second) / time.Second))
	}
	if strings.EqualFold(path.Ext(r.Recording), ".gsm") && r.RecordingSize > 0 {
		return common.Duration(int((r.RecordingSize + gsmBytesPerSecond/2) / gsmBytesPerSecond))
	}
	return "known once played (enter)"
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
	if m.rec == nil {
		lines = append(lines, st.Muted.Render("no call selected"))
	}
	const labelW = 13
	for _, kv := range m.fields() {
		label := st.Label.Render(fit.Pad(kv[0], labelW))
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
	// The title stays; the fields under it scroll (J/K) when the pane is too short for them.
	rows := max(1, m.h-3)
	m.offset = max(0, min(m.offset, len(lines)-rows))
	title := st.Title.Render("Call details")
	if len(lines) > rows {
		title += st.Muted.Render(" " + strconv.Itoa(m.offset+1) + "–" + strconv.Itoa(min(len(lines), m.offset+rows)) +
			" of " + strconv.Itoa(len(lines)) + " · J/K scroll")
	}
	lines = lines[m.offset:min(len(lines), m.offset+rows)]
	out := append([]string{fit.Cut(title, inner)}, lines...)
	return st.Pane.Width(m.w).Height(m.h).Render(strings.Join(out, "\n"))
}

func (m *Model) ShortHelp() []key.Binding  { return []key.Binding{m.Keys.ScrollDown} }
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{{m.Keys.ScrollDown}} }
