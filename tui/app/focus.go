package app

import "github.com/callscope/callscope/tui/common"

// area is the part of the screen that has the keyboard.
type area int

const (
	areaCalls  area = iota // the call table (and the detail pane's scroll keys)
	areaPlayer             // the player bar's controls; the cursor keys still move through the calls
	areaSearch             // the search line
	areaHelp               // the `?` page
	areaDialog             // a dialog over the calls: a prompt, the filters, users, overview or export
)

// focus is who has the keyboard, as one value (glow keeps one state the same way), so no two parts can think
// they have it. The search line, the help page and a dialog sit over the calls or the player bar and give the
// keys back to it when they close.
type focus struct {
	now    area
	under  area             // areaCalls or areaPlayer: who gets the keys back
	dialog common.Focusable // the open dialog; set exactly when now is areaDialog
}

// is reports whether a has the keyboard.
func (f focus) is(a area) bool { return f.now == a }

// player reports whether the player bar has the keys, or will have them back when what is over it closes.
func (f focus) player() bool { return f.under == areaPlayer }

// open puts the search line or the help page over what has the keys.
func (f *focus) open(a area) {
	f.close()
	f.now = a
}

// openDialog puts d over what has the keys; a dialog already open gives way to it.
func (f *focus) openDialog(d common.Focusable) {
	f.close()
	f.now, f.dialog = areaDialog, d
}

// close shuts the search line, the help page or the dialog (the caller blurs it) and gives the keys back.
func (f *focus) close() {
	f.now, f.dialog = f.under, nil
}

// give hands the keys to the calls or the player bar; a search line, help page or dialog over them keeps the
// keys until it closes.
func (f *focus) give(a area) {
	if f.now == f.under {
		f.now = a
	}
	f.under = a
}
