package common

import (
	"io"
	"log"
	"time"

	"github.com/callscope/callscope/tui/theme"
)

// Context is shared by pointer between the root and every component: one theme, the styles built from it, the
// terminal size, the clock and the debug logger. Components read it; only the root changes it.
type Context struct {
	Theme  theme.Theme
	Styles Styles
	Width  int
	Height int
	// Log writes to the --debug file, never to the terminal; it discards when debugging is off.
	Log *log.Logger
	// Now is the clock: time.Now in the app, a fixed instant in tests and golden screens.
	Now func() time.Time
}

// NewContext builds a context from a theme. A nil logger discards; a nil clock is time.Now.
func NewContext(th theme.Theme, lg *log.Logger, now func() time.Time) *Context {
	if lg == nil {
		lg = log.New(io.Discard, "", 0)
	}
	if now == nil {
		now = time.Now
	}
	return &Context{Theme: th, Styles: NewStyles(th), Log: lg, Now: now}
}

// SetTheme switches the palette (light/dark detected after start-up) and rebuilds the styles.
func (c *Context) SetTheme(th theme.Theme) {
	c.Theme = th
	c.Styles = NewStyles(th)
}
