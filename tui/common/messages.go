package common

import (
	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
)

// Rows is a read-only, indexable view of the calls the table currently shows (filters and sort applied), in
// display order. It is a view over a snapshot of the loaded records, not a copy, so it may be read in a Cmd's
// goroutine while more rows load. The table keeps its records compactly; At builds row i as a value each time,
// and its strings share the table's memory.
type Rows interface {
	Len() int
	At(i int) cdr.Record
}

// SelectionChanged is broadcast when the cursor lands on another call. Record is nil when no row is shown.
type SelectionChanged struct {
	Record *cdr.Record
}

// RowsChanged is broadcast when the shown set changes: rows streamed in, a filter, a sort, a refresh. Loaded
// counts every loaded row before filtering; Filters describes the active filters for people ("ext 201,202 ·
// answered"); Range is the loaded time range or page ("2024-03-01 → 2024-03-02", "page 3").
type RowsChanged struct {
	Rows    Rows
	Loaded  int
	Filters string
	Range   string
}

// StatusMsg puts a line in the status bar: a note, or an error (shown in the error colour until the next one).
// A Sticky line stays on screen beside later notes until the user dismisses it (esc): an error at start-up, a
// warning that must be read (a PBX that accepts its factory-default password).
type StatusMsg struct {
	Text   string
	Err    error
	Sticky bool
}

// Status and Error are Cmds producing a StatusMsg.
func Status(text string) tea.Cmd { return Cmd(StatusMsg{Text: text}) }
func Error(err error) tea.Cmd    { return Cmd(StatusMsg{Err: err}) }

// StickyError and Warning are Cmds producing a sticky StatusMsg.
func StickyError(err error) tea.Cmd { return Cmd(StatusMsg{Err: err, Sticky: true}) }
func Warning(text string) tea.Cmd   { return Cmd(StatusMsg{Text: text, Sticky: true}) }

// PlayRequest asks the player to play a call (sent by the root on `enter`). Playing another call stops the
// current one; moving the cursor does not.
type PlayRequest struct {
	Record cdr.Record
}

// ExportRequest asks the export dialog to write these calls: the marked ones, or every shown one when none are
// marked (Marked says which). The root builds it on `e` and hands it to the export dialog's Update.
type ExportRequest struct {
	Rows   Rows
	Marked bool
}

// CloseDialog is returned (as a Cmd) by a dialog that is done; the root drops it and gives focus back to the
// call table.
type CloseDialog struct{}

// FocusTable asks the root to give the keyboard back to the call table without closing the focused component
// (the player bar keeps playing).
type FocusTable struct{}
