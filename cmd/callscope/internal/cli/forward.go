package cli

import (
	"context"
	"io"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/transport"
)

// The wrappers the command line puts around a source (factoryDefaultCheck, loggedSource) embed cdr.Source,
// which hides the optional capabilities of what they wrap from a type assertion. Each capability is forwarded
// here, one method per wrapper; a capability says itself whether the wrapped source has it (ok false), so a
// wrapper never claims what its source lacks. forward_test.go checks every wrapper against every capability.
// (comx.ZipFetcher answers errors.ErrUnsupported through a wrapper whose source has no ziprec, as comx.NoZip says.)

func (f *factoryDefaultCheck) PBXClock() (time.Time, bool) { return cdr.PBXClockOf(f.Source) }

func (s loggedSource) PBXClock() (time.Time, bool) { return cdr.PBXClockOf(s.Source) }

var (
	_ cdr.Clock = (*factoryDefaultCheck)(nil)
	_ cdr.Clock = loggedSource{}
)

// FetchZip and Index: without them a sync through the factory-default check made one request per recording
// instead of one zip per range. A zip that arrives tells that the PBX took the default password.
func (f *factoryDefaultCheck) FetchZip(ctx context.Context, q cdr.Query, w io.Writer) (int64, error) {
	zf, ok := f.Source.(comx.ZipFetcher)
	if !ok {
		return 0, comx.NoZip(f.Source)
	}
	n, err := zf.FetchZip(ctx, q, w)
	if err == nil {
		f.seen()
	}
	return n, err
}

func (f *factoryDefaultCheck) Index(ctx context.Context, q cdr.Query) (io.ReadCloser, error) {
	zf, ok := f.Source.(comx.ZipFetcher)
	if !ok {
		return nil, comx.NoZip(f.Source)
	}
	body, err := zf.Index(ctx, q)
	if err == nil {
		f.seen()
	}
	return body, err
}

func (s loggedSource) FetchZip(ctx context.Context, q cdr.Query, w io.Writer) (int64, error) {
	zf, ok := s.Source.(comx.ZipFetcher)
	if !ok {
		return 0, comx.NoZip(s.Source)
	}
	return zf.FetchZip(transport.WithLog(ctx, s.log), q, w)
}

func (s loggedSource) Index(ctx context.Context, q cdr.Query) (io.ReadCloser, error) {
	zf, ok := s.Source.(comx.ZipFetcher)
	if !ok {
		return nil, comx.NoZip(s.Source)
	}
	return zf.Index(transport.WithLog(ctx, s.log), q)
}
