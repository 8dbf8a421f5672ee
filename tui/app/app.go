// Package app is callscope's root TUI model: it owns the call table, the status bar, the detail pane, the
// filters, the prompts and dialogs and the player bar, routes window size to all of them and keys and mouse to
// the one that has focus. Its loader runs every fetch in tea.Cmds tagged so a late answer is dropped.
package app

import (
	"context"
	"errors"
	"io"
	"log"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/reccache"
	"github.com/callscope/callscope/tui/calltable"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/detail"
	"github.com/callscope/callscope/tui/export"
	"github.com/callscope/callscope/tui/filter"
	"github.com/callscope/callscope/tui/overview"
	"github.com/callscope/callscope/tui/playerbar"
	"github.com/callscope/callscope/tui/statusbar"
	"github.com/callscope/callscope/tui/theme"
	"github.com/callscope/callscope/tui/users"
)

// PlayerFactory opens the audio player on first play (defined by the player bar).
type PlayerFactory = playerbar.PlayerFactory

// Options configure the app.
type Options struct {
	Source   cdr.Source
	Initial  cdr.Query     // range or page to load at start (zero = today)
	Goto     cdr.Lookup    // open on this call (callscope --id/--start), ready to play
	Player   PlayerFactory // nil: the best audio output there is
	CacheDir string        // recordings cache; empty = the player's default
	Log      *log.Logger   // --debug file logger, or nil to discard
	Now      func() time.Time
	NoColor  bool
	Dark     *bool // nil = ask the terminal
	CSVRaw   bool  // the export writes cells as the PBX sent them (--csv-raw), not neutralised
	// CountryCode is the PBX's country calling code ("27"): a search for +27 84… then finds 084…. Empty: numbers
	// match however they are spaced, but +CC is not known to stand for the trunk prefix 0.
	CountryCode string
	// Warnings carries warnings that arrive while the app runs (a PBX that accepts its factory-default
	// password); each stays in the status bar until dismissed. nil for none.
	Warnings <-chan string
}

// Model is the root tea.Model: it routes messages to the components and to the loader, and holds what belongs
// to no one component (the filters, the names, who has the keyboard, the layout).
type Model struct {
	o    Options
	ctx  *common.Context
	keys KeyMap
	src  cdr.Source
	load *loader

	table    *calltable.Model
	status   *statusbar.Model
	detail   *detail.Model
	users    *users.Model
	panel    *filter.Panel
	search   *filter.Search
	player   *playerbar.Model
	export   *export.Model
	overview *overview.Model
	spin     spinner.Model
	spinning bool // a chain of spinner ticks runs

	focus      focus
	showDetail bool

	filters   filter.State
	names     map[string]string
	sel       *cdr.Record // last selection broadcast
	rowsDirty bool        // the shown rows changed since the overview last heard

	width, height int
	lay           layout
}

// New builds the root model.
func New(o Options) *Model {
	if o.Log == nil {
		o.Log = log.New(io.Discard, "", 0)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	dark := true
	if o.Dark != nil {
		dark = *o.Dark
	}
	ctx := common.NewContext(theme.New(dark, o.NoColor), o.Log, o.Now)
	m := &Model{
		o: o, ctx: ctx, keys: DefaultKeyMap(), src: o.Source,
		table:    calltable.New(ctx),
		detail:   detail.New(ctx),
		users:    users.New(ctx),
		panel:    filter.NewPanel(ctx),
		search:   filter.NewSearch(ctx),
		overview: overview.New(ctx),
	}
	m.status = statusbar.New(ctx, m.statusFields)
	m.load = newLoader(o.Source, m.table, o.Log, ctx.Now)
	m.load.unfilter = func() {
		m.filters = filter.State{}
		m.applyFilters()
	}
	var cache *reccache.Cache
	if o.CacheDir != "" {
		if c, err := reccache.Open(o.CacheDir); err == nil {
			cache = c
		} else {
			o.Log.Printf("recordings cache %s: %v", o.CacheDir, err)
		}
	}
	m.player = playerbar.New(ctx, playerbar.Options{Player: o.Player, Source: o.Source, Cache: cache})
	m.export = export.New(ctx, export.Options{Source: o.Source, Cache: cache, CSVRaw: o.CSVRaw})
	m.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(ctx.Styles.StatusKV))
	m.table.SetNames(nil)
	return m
}

// Init starts the first fetches: the users list, the call to open (--id) and the initial range.
func (m *Model) Init() tea.Cmd {
	var cmds []tea.Cmd
	if m.o.Dark == nil && !m.o.NoColor {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	if m.src == nil {
		return tea.Batch(append(cmds, common.Error(errNoSource))...)
	}
	if !m.o.Goto.IsZero() {
		m.status.Update(common.StatusMsg{Text: "fetching " + m.o.Goto.String() + "…"})
	}
	return tea.Batch(append(cmds, fetchUsers(m.src), waitWarning(m.o.Warnings), m.load.start(m.o.Initial, m.o.Goto))...)
}

// Run runs the app until the user quits or ctx ends.
func Run(ctx context.Context, o Options) error {
	limitMemory()
	m := New(o)
	defer func() { _ = m.player.Close() }() // the app is done; a sound device that fails to close leaves nothing to do
	_, err := tea.NewProgram(m, tea.WithContext(ctx)).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}
