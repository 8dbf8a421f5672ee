package cli

import (
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// The wrappers the command line puts around a source (factoryDefaultCheck, loggedSource) embed cdr.Source,
// which hides the optional capabilities of what they wrap from a type assertion. Each capability is forwarded
// here, one method per wrapper; a capability says itself whether the wrapped source has it (ok false), so a
// wrapper never claims what its source lacks. forward_test.go checks every wrapper against every capability.

func (f *factoryDefaultCheck) PBXClock() (time.Time, bool) { return cdr.PBXClockOf(f.Source) }

func (s loggedSource) PBXClock() (time.Time, bool) { return cdr.PBXClockOf(s.Source) }

var (
	_ cdr.Clock = (*factoryDefaultCheck)(nil)
	_ cdr.Clock = loggedSource{}
)
