package difuse

import (
	"errors"
	"fmt"

	"github.com/callscope/callscope/client/transport"
)

// The errors below say what happened and carry the facts; what to do about it depends on who asked (a flag on
// the command line, a key in the app), so the remedy is the caller's to add.

// ErrNoExtension is a Config without the extension that has CDR access, which the API needs as its user.
//
//lint:ignore ST1005 Difuse is a product name, capitalised wherever it stands in a sentence
var ErrNoExtension = errors.New("Difuse needs the extension that has CDR access as the user")

// NoSecretError is a Config whose extension comes without its secret.
type NoSecretError struct{ Extension string }

func (e *NoSecretError) Error() string { return "no secret for extension " + e.Extension }

// LimitError is a page size larger than a Difuse PBX is ever asked for (MaxLimit), in a Config or a query.
type LimitError struct{ Limit, Max int }

func (e *LimitError) Error() string {
	return fmt.Sprintf("a page of %d calls is more than callscope asks a Difuse PBX for (at most %d)", e.Limit, e.Max)
}

// EndlessPagingError is a PBX that sends no total_pages and whose pages still hold new calls at Page, past any
// PBX's size: its paging never ends, so the search stops. Single pages can still be read.
type EndlessPagingError struct {
	Host string
	Page int
}

func (e *EndlessPagingError) Error() string {
	return fmt.Sprintf("pbx %s: page %d still holds new calls and the PBX does not say how many pages it has (no total_pages): its paging never ends, so callscope stops looking",
		e.Host, e.Page)
}

// PageTooLongError is a page holding more than Max calls when Asked were asked for: it is not read on, since a
// page that long is held in memory. A PBX with its own, longer page size needs a page size to match.
type PageTooLongError struct {
	Host             string
	Page, Max, Asked int
}

func (e *PageTooLongError) Error() string {
	return fmt.Sprintf("pbx %s: page %d holds more than %d calls although %d were asked for: stopped reading it",
		e.Host, e.Page, e.Max, e.Asked)
}

// Unwrap lets errors.Is(err, transport.ErrTooLarge) find it.
func (e *PageTooLongError) Unwrap() error { return transport.ErrTooLarge }
