package export

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/callscope/callscope/client/human"
	"github.com/callscope/callscope/client/safetext"
	"github.com/callscope/callscope/tui/fit"
)

// View draws the dialog box (at most 76 columns wide); empty when closed.
func (m *Model) View() string {
	if m.state == Closed || m.width < 24 {
		return ""
	}
	st := &m.ctx.Styles
	iw := m.innerWidth()
	var lines []string
	what := fmt.Sprintf("Export %d shown calls to CSV", m.count)
	if m.marked {
		what = fmt.Sprintf("Export %d marked calls to CSV", m.count)
	}
	if m.count == 1 {
		what = strings.Replace(what, "calls", "call", 1)
	}
	lines = append(lines, st.Title.Render(what), "")

	switch m.state {
	case Prompting, Checking:
		label := st.Label.Render("File ")
		field := m.input.View()
		if m.onCheckbox {
			field = st.Muted.Render(m.input.Value())
		}
		lines = append(lines, fit.Cut(label+field, iw))
		if m.opts.Source != nil {
			box := "[ ]"
			if m.withRec {
				box = "[x]"
			}
			text := box + " also save recordings in " + filepath.Base(RecordingsDir(m.input.Value())) + "/"
			if m.onCheckbox {
				text = st.Accent.Render("› " + text)
			} else {
				text = "  " + text
			}
			lines = append(lines, fit.Cut(text, iw))
		}
		if m.state == Checking {
			lines = append(lines, "", st.Muted.Render("Checking…"))
		}
		if m.err != nil {
			lines = append(lines, "", st.Error.Render(wrap(safetext.Terminal(m.err.Error()), iw)))
		}
	case Confirming:
		lines = append(lines, st.Warning.Render(wrap(strings.Join(m.existing, " and ")+" already exists.", iw)),
			"Overwrite? "+st.Bold.Render("y")+st.Muted.Render(" yes · ")+st.Bold.Render("n")+st.Muted.Render(" choose another name"))
	case Writing:
		if m.result.rows == 0 && m.prog.gen == 0 {
			lines = append(lines, st.Muted.Render(fit.Cut(fmt.Sprintf("Writing %s…", filepath.Base(m.path)), iw)))
		} else {
			lines = append(lines, st.OK.Render("✓ ")+fit.Cut(fmt.Sprintf("%d calls written to %s", m.result.rows, filepath.Base(m.path)), iw-2))
			lines = append(lines, fit.Cut(fmt.Sprintf("Recordings %d/%d · %s", m.prog.done, m.prog.total, human.Bytes(m.prog.bytes)), iw))
			pct := 0.0
			if m.prog.total > 0 {
				pct = float64(m.prog.done) / float64(m.prog.total)
			}
			if m.barTheme != m.ctx.Theme {
				m.bar = m.newBar(m.bar.Width())
			}
			lines = append(lines, m.bar.ViewAs(pct))
			if m.prog.current != "" {
				lines = append(lines, st.Muted.Render(fit.Cut("call "+safetext.Terminal(m.prog.current), iw)))
			}
		}
	case Done:
		r := m.result
		lines = append(lines, st.OK.Render("✓ ")+fit.Cut(fmt.Sprintf("%d calls written to %s", r.rows, m.path), iw-2))
		if m.withRec {
			lines = append(lines, st.OK.Render("✓ ")+fit.Cut(fmt.Sprintf("%d of %d recordings (%s) saved in %s/", r.saved,
				m.recordingRows, human.Bytes(r.bytes), filepath.Base(m.recDir)), iw-2))
			if r.cancelled {
				lines = append(lines, st.Warning.Render("Stopped before the end; the files saved so far are complete."))
			}
			if r.failed > 0 {
				lines = append(lines, st.Error.Render(fmt.Sprintf("✗ %d failed", r.failed)))
				if r.firstErr != nil {
					lines = append(lines, st.Error.Render(wrap(safetext.Terminal(r.firstErr.Error()), iw)))
				}
			}
		}
	}
	return st.Dialog.Width(iw + 4).Render(strings.Join(lines, "\n"))
}

// wrap breaks an error message at the dialog's width; errors can name long paths.
func wrap(s string, w int) string { return ansi.Wrap(s, w, " /") }
