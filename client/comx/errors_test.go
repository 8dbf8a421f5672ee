package comx_test

import (
	"errors"
	"testing"

	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/transport"
)

// TestNoURLIsOneError: a missing PBX address is one error, said once, whichever way in it was found: an empty
// URL parsed, a Com.X or a Difuse client configured without one. The remedy is the caller's.
func TestNoURLIsOneError(t *testing.T) {
	_, parse := transport.ParseEndpoint("")
	_, cx := comx.New(comx.Config{})
	_, df := difuse.New(difuse.Config{})
	for name, err := range map[string]error{"ParseEndpoint": parse, "comx.New": cx, "difuse.New": df} {
		if !errors.Is(err, transport.ErrNoURL) || err.Error() != "no PBX URL given" {
			t.Errorf("%s: %v, want transport.ErrNoURL", name, err)
		}
	}
}
