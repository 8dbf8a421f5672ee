package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
)

// openLog sets up this run's log: --debug FILE gets every line (requests, decisions, warnings), -v prints the
// summary lines (requests and decisions) on stderr. The logger travels in the command's context, so the PBX
// clients log their requests to it.
func (a *app) openLog(c *cobra.Command) error {
	var hs []slog.Handler
	if a.debug != "" {
		f, err := os.OpenFile(a.debug, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("cannot open the debug log %s: %v", a.debug, err)
		}
		a.logFile = f
		hs = append(hs, slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if a.verbose {
		hs = append(hs, &verboseHandler{a: a})
	}
	switch len(hs) {
	case 0:
		return nil
	case 1:
		a.log = slog.New(hs[0])
	default:
		a.log = slog.New(slog.NewMultiHandler(hs...))
	}
	a.log.Debug("callscope "+versionText(), "command", c.CommandPath())
	c.SetContext(transport.WithLog(c.Context(), a.log))
	return nil
}

// closeLog closes the --debug file. A Close that fails may have lost the log's last lines: the user hears it.
func (a *app) closeLog() {
	if a.logFile == nil {
		return
	}
	if err := a.logFile.Close(); err != nil {
		fmt.Fprintf(a.stderr, "callscope: warning: the debug log %s may be incomplete: %v\n", a.debug, err)
	}
}

// logger is the run's logger; it discards until openLog sets one up.
func (a *app) logger() *slog.Logger {
	if a.log == nil {
		return transport.Log(context.Background())
	}
	return a.log
}

// verboseHandler prints the summary lines (Info) on stderr for -v, except while the app owns the terminal.
// Warnings are printed by warn already.
type verboseHandler struct {
	a  *app
	mu sync.Mutex
}

func (h *verboseHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l == slog.LevelInfo && !h.a.inTUI
}

func (h *verboseHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if isTerminal(h.a.stderr) {
		fmt.Fprint(h.a.stderr, "\r\x1b[K") // over a progress line, which redraws on its next tick
	}
	_, err := fmt.Fprintln(h.a.stderr, "callscope: "+oneLine(r.Message))
	return err
}

func (h *verboseHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *verboseHandler) WithGroup(string) slog.Handler      { return h }

// loggedSource hands the run's logger to every fetch of a source whose callers start from their own contexts
// (the app's fetches), so their requests are logged like a command's.
type loggedSource struct {
	cdr.Source
	log *slog.Logger
}

func (s loggedSource) Calls(ctx context.Context, q cdr.Query, fn func(cdr.Record) error) (cdr.Result, error) {
	return s.Source.Calls(transport.WithLog(ctx, s.log), q, fn)
}

func (s loggedSource) Call(ctx context.Context, l cdr.Lookup) (cdr.Record, error) {
	return s.Source.Call(transport.WithLog(ctx, s.log), l)
}

func (s loggedSource) Recording(ctx context.Context, l cdr.Lookup) (*cdr.Recording, error) {
	return s.Source.Recording(transport.WithLog(ctx, s.log), l)
}

func (s loggedSource) Users(ctx context.Context) ([]cdr.User, error) {
	return s.Source.Users(transport.WithLog(ctx, s.log))
}
