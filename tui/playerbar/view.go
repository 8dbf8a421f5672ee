package playerbar

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/audio/output"
	"github.com/callscope/callscope/client/human"
	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/fit"
)

// View draws up to three lines: what plays and where, a progress bar (played, downloaded, still to come) and
// the waveform strip of the whole call. Empty while idle.
func (m *Model) View() string {
	if m.phase == Idle || m.width < 10 || m.height < 1 {
		return ""
	}
	lines := []string{m.titleLine()}
	if m.phase == Loaded {
		if m.height >= 2 {
			lines = append(lines, m.progressLine())
		}
		if m.height >= 3 {
			lines = append(lines, m.waveLine())
		}
	}
	for len(lines) < m.height {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = fit.Line(l, m.width)
	}
	return strings.Join(lines[:m.height], "\n")
}

func (m *Model) titleLine() string {
	st := &m.ctx.Styles
	r := m.record
	// The PBX's text (IDs, numbers, errors quoting them) is shown, never run by the terminal.
	name := safetext.Terminal(r.Ref())
	who := safetext.Terminal(r.Extension)
	if other := r.OtherParty(); other != "" {
		who += " " + common.TypeGlyph(r.CallType) + " " + safetext.Terminal(other)
	}
	switch m.phase {
	case Fetching:
		s := st.Accent.Render("… ") + st.Bold.Render(name) + st.Muted.Render(" · "+who+" · fetching recording")
		if m.dlN > 0 {
			s += st.Muted.Render(" · " + human.Bytes(m.dlN))
		}
		return s
	case Failed:
		msg := "cannot play"
		if m.err != nil {
			msg = safetext.Terminal(m.err.Error())
		}
		return st.Error.Render("✗ ") + st.Bold.Render(name) + st.Error.Render(" "+msg)
	}
	s := m.state
	glyph := "▶"
	switch {
	case s.Err != nil:
		glyph = "✗"
	case s.Paused:
		glyph = "‖"
	case s.Ended || !s.Playing:
		glyph = "■"
	}
	left := st.Accent.Render(glyph+" ") + st.Bold.Render(name) + st.Muted.Render(" · "+who)
	var details []string
	if f := m.info.Format; f != "" {
		d := f
		if m.info.SampleRate > 0 {
			d += fmt.Sprintf(" %g kHz", float64(m.info.SampleRate)/1000)
		}
		details = append(details, d)
	}
	if m.info.Truncated || (s.Err == nil && m.entry != nil && m.entry.Err() != nil) {
		details = append(details, st.Warning.Render("cut off"))
	}
	if s.Speed != 0 && s.Speed != 1 {
		details = append(details, fmt.Sprintf("%g×", s.Speed))
	}
	if s.Volume != 1 {
		details = append(details, fmt.Sprintf("vol %d%%", int(s.Volume*100+0.5)))
	}
	if s.Output == output.Null || s.Notice != "" {
		details = append(details, st.Warning.Render("no sound"))
	}
	if m.downloading {
		if m.dlTotal > 0 {
			details = append(details, fmt.Sprintf("downloading %d%%", int(m.dlN*100/m.dlTotal)))
		} else {
			details = append(details, "downloading")
		}
	}
	if s.Err != nil {
		details = append(details, st.Error.Render(safetext.Terminal(s.Err.Error())))
	}
	for _, d := range details {
		left += st.Muted.Render(" · ") + d
	}
	right := clock(s.Position) + " / " + clock(s.Length)
	if m.downloading {
		right += "+"
	}
	gap := m.width - ansi.StringWidth(left) - len(right)
	if gap < 1 {
		left = fit.Cut(left, m.width-len(right)-1)
		gap = 1
	}
	return left + strings.Repeat(" ", gap) + st.Bold.Render(right)
}

// progressLine: played ━ in the accent colour, downloaded but not played ─, not yet downloaded ┄.
func (m *Model) progressLine() string {
	st := &m.ctx.Styles
	w := m.width
	s := m.state
	total := s.Length
	if total <= 0 {
		return st.Subtle.Render(strings.Repeat("┄", w))
	}
	played := int(int64(w) * int64(s.Position) / int64(total))
	avail := w
	if m.downloading && m.dlTotal > 0 {
		avail = int(int64(w) * m.dlN / m.dlTotal)
	}
	played = min(max(played, 0), w)
	avail = min(max(avail, played), w)
	return st.Accent.Render(strings.Repeat("━", played)) + st.Muted.Render(strings.Repeat("─", avail-played)) +
		st.Subtle.Render(strings.Repeat("┄", w-avail))
}

// waveLine is the strip of the whole call; the part already played is in the accent colour.
func (m *Model) waveLine() string {
	st := &m.ctx.Styles
	if m.wave == nil {
		if m.waveErr != nil {
			return st.Muted.Render("no waveform: " + m.waveErr.Error())
		}
		return st.Muted.Render("working out where people speak…")
	}
	strip := []rune(m.wave.Strip(m.width))
	d := m.wave.Duration()
	at := 0
	if d > 0 {
		at = int(int64(len(strip)) * int64(m.state.Position) / int64(d))
	}
	at = min(max(at, 0), len(strip))
	return st.Accent.Render(string(strip[:at])) + st.Normal.Render(string(strip[at:]))
}

// clock is m:ss, or h:mm:ss past an hour.
func clock(d time.Duration) string {
	return common.Duration(int(d / time.Second))
}
