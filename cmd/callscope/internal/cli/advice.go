package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdrsync"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/profile"
	"github.com/callscope/callscope/client/transport"
)

// The libraries say what happened, with the facts in typed errors; what to do about it on the command line (a
// flag, another command) is said here, in one place, and only here. The app says it in its own words
// (tui/app/advice.go).

// advice is the command line's remedy for err: the flag or command that deals with it, or "" when the error's
// own words are all there is to say.
func advice(err error) string {
	var (
		timeout  *transport.TimeoutError
		cert     *transport.UntrustedCertError
		redirect *transport.RedirectError
		noSecret *difuse.NoSecretError
		limit    *difuse.LimitError
		endless  *difuse.EndlessPagingError
		tooLong  *difuse.PageTooLongError
		notArch  *archive.NotArchiveError
		damaged  *archive.DamagedError
		notRec   *archive.RecordingNotStoredError
		state    *cdrsync.StateError
		notFetch *cdrsync.NotFetchedError
		wav      *decode.WAVTooLongError
	)
	switch {
	case errors.As(err, &timeout):
		return "--timeout sets the limit"
	case errors.As(err, &cert):
		return "give the PBX's CA with --ca-file (or --insecure to skip the check)"
	case errors.As(err, &redirect) && redirect.Suggest != "":
		return "if that is the PBX, use --url " + redirect.Suggest
	case errors.Is(err, transport.ErrNoURL):
		return "use --url http://PBX_ADDRESS or --profile NAME (see callscope config), or --demo to try callscope on a simulated PBX"
	case errors.Is(err, difuse.ErrNoExtension):
		return "give it with --user"
	case errors.As(err, &noSecret):
		return "set " + profile.EnvPassword + " (the extension's secret) or use a profile"
	case errors.As(err, &limit):
		return fmt.Sprintf("ask for at most %d with --limit", limit.Max)
	case errors.Is(err, difuse.ErrNoUserList):
		return "callscope calls --ext N filters by one"
	case errors.As(err, &endless):
		return "read single pages with --page"
	case errors.As(err, &tooLong):
		return "a PBX with pages this long needs a matching --limit"
	case errors.As(err, &notArch):
		return "make one with callscope sync --dir " + notArch.Dir + " (or listen --dir)"
	case errors.As(err, &damaged):
		return "move " + filepath.Join(damaged.Dir, archive.IndexName) + " aside and run callscope sync --dir " + damaged.Dir +
			" to rebuild it from the PBX"
	case errors.As(err, &notRec) && notRec.Reason != "":
		return "callscope sync tries again"
	case errors.As(err, &notRec):
		return "callscope sync fetches it"
	case errors.Is(err, cdrsync.ErrOtherPBX):
		return "use another --dir for this PBX"
	case errors.As(err, &state):
		return "remove it to sync again from --since (the archive keeps its calls)"
	case errors.As(err, &notFetch) && notFetch.GaveUp > 0:
		return "callscope calls --archive shows why"
	case errors.As(err, &wav):
		return "write raw samples instead (decode --format s16le; export without --convert)"
	}
	return ""
}

// explain is err as the command line prints it: what happened, then the remedy.
func explain(err error) string {
	if a := advice(err); a != "" {
		return err.Error() + "; " + a
	}
	return err.Error()
}
