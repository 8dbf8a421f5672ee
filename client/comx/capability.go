package comx

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/callscope/callscope/client/cdr"
)

// ZipFetcher is the ziprec capability of a Com.X source (spec 2.1.1): a time range's calls with their
// recordings in one answer, and the range's raw index, of which a caller may read a few rows and drop the rest.
// A sync asks for one zip per range instead of one request per recording.
//
// *Client has it. A source that wraps another and embeds cdr.Source (a warning, a logger) hides it unless it
// forwards both methods; a wrapper whose inner source has no ZipFetcher answers with NoZip's error, before any
// request, and callers then fetch the calls and recordings one by one.
type ZipFetcher interface {
	// FetchZip writes the format=ziprec archive of q's range (q.From, q.To, q.Extended) to w and returns the
	// bytes written; the context's Observer hears the running count.
	FetchZip(ctx context.Context, q cdr.Query, w io.Writer) (int64, error)
	// Index opens the raw format=txt index of q's range; the caller closes it.
	Index(ctx context.Context, q cdr.Query) (io.ReadCloser, error)
}

var _ ZipFetcher = (*Client)(nil)

// NoZip is what a wrapper's ZipFetcher methods return when the source it wraps cannot send zips: an error
// wrapping errors.ErrUnsupported.
func NoZip(src cdr.Source) error {
	return fmt.Errorf("%s cannot send a range of calls as one zip: %w", src.Describe(), errors.ErrUnsupported)
}

// The credentials every Com.X ships with (spec 2.5.1: "by default, the username admin, password C@11Me"). A PBX
// that still accepts them lets anyone who has read the spec read its calls and recordings.
const (
	FactoryDefaultUser     = "admin"
	FactoryDefaultPassword = "C@11Me"
)

// IsFactoryDefault reports whether user and password are a Com.X's factory default. The password is compared in
// constant time, and nothing is sent anywhere.
func IsFactoryDefault(user string, password cdr.Secret) bool {
	same := subtle.ConstantTimeCompare([]byte(password.Reveal()), []byte(FactoryDefaultPassword)) == 1
	return user == FactoryDefaultUser && same
}
