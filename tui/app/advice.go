package app

import (
	"errors"
	"fmt"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/transport"
)

// The libraries say what happened, with the facts in typed errors; the app adds what to do in its own words
// (a key, the profile), as the command line adds its flags (cmd/callscope/internal/cli/advice.go). Every error
// on its way to the status bar or a view passes through advise once.

// remedy is the app's advice for err, or "" when the error's own words are all there is to say.
func remedy(err error) string {
	var (
		timeout  *transport.TimeoutError
		cert     *transport.UntrustedCertError
		redirect *transport.RedirectError
		limit    *difuse.LimitError
		endless  *difuse.EndlessPagingError
		tooLong  *difuse.PageTooLongError
		notRec   *archive.RecordingNotStoredError
		damaged  *archive.DamagedError
		wav      *decode.WAVTooLongError
	)
	switch {
	case errors.As(err, &timeout):
		return "a slower PBX needs a longer timeout in its profile (callscope config)"
	case errors.As(err, &cert):
		return "put the PBX's CA in its profile as ca_file (callscope config) and open callscope again"
	case errors.As(err, &redirect) && redirect.Suggest != "":
		return "if that is the PBX, set its profile's url to " + redirect.Suggest + " (callscope config)"
	case errors.Is(err, difuse.ErrNoUserList):
		return "f filters the calls by extension"
	case errors.As(err, &limit):
		return fmt.Sprintf("Z sets a page size of at most %d", limit.Max)
	case errors.As(err, &endless):
		return "browse it a page at a time: P goes to a page"
	case errors.As(err, &tooLong):
		return "Z sets a page size to match"
	case errors.As(err, &notRec) && notRec.Reason != "":
		return "the next callscope sync tries again"
	case errors.As(err, &notRec):
		return "the next callscope sync fetches it"
	case errors.As(err, &damaged):
		return "quit, move its index.db aside and run callscope sync to rebuild it from the PBX"
	case errors.As(err, &wav):
		return "export it without converting to WAV"
	}
	return ""
}

// advisedError is an error with the app's remedy after it; it still matches what it wraps.
type advisedError struct {
	err    error
	remedy string
}

func (e *advisedError) Error() string { return e.err.Error() + "; " + e.remedy }
func (e *advisedError) Unwrap() error { return e.err }

// advise adds the app's remedy to err, once.
func advise(err error) error {
	var done *advisedError
	if err == nil || errors.As(err, &done) {
		return err
	}
	if r := remedy(err); r != "" {
		return &advisedError{err: err, remedy: r}
	}
	return err
}
