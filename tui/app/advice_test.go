package app

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callscope/callscope/audio/decode"
	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

// TestErrorsGetTheAppsRemedy: an error a library reports by type reaches the screen with the app's remedy (keys,
// the profile), never a command-line flag, from the real situation: a PBX that stops answering, a Difuse PBX
// that has no user list.
func TestErrorsGetTheAppsRemedy(t *testing.T) {
	w := startSim(t, pbxsim.Options{Faults: pbxsim.Faults{Stall: true}}, pbxsim.DefaultComxPassword)
	ep, err := transport.ParseEndpoint(w.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	ep.User, ep.Password = pbxsim.DefaultComxUser, cdr.Secret(pbxsim.DefaultComxPassword)
	stalled, err := comx.New(comx.Config{Endpoint: ep, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ep.User, ep.Password = pbxsim.DefaultDifuseExtension, cdr.Secret(pbxsim.DefaultDifuseSecret)
	d, err := difuse.New(difuse.Config{Endpoint: ep, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stalledSrc, difuseSrc := offBubble(t, stalled), offBubble(t, d)
	inWorld(t, func(t *testing.T) {
		h := newHarness(t, Options{Source: stalledSrc, Now: w.now}, 160, 40)
		h.idle()
		got := strings.Join(strings.Fields(h.screen()), " ")
		if !strings.Contains(got, "no answer within 300ms") || !strings.Contains(got, "longer timeout in its profile") ||
			strings.Contains(got, "--timeout") {
			t.Errorf("the screen does not show the timeout with the app's remedy:\n%s", h.screen())
		}

		h = newHarness(t, Options{Source: difuseSrc, Now: w.now}, 160, 40)
		h.keys("u")
		screen := strings.Join(strings.Fields(h.screen()), " ")
		if !strings.Contains(screen, "offers no list of users") || !strings.Contains(screen, "f filters the calls by extension") ||
			strings.Contains(screen, "--ext") {
			t.Errorf("the users view does not give the app's remedy:\n%s", h.screen())
		}
	})
}

// TestRemedyOnce: an error already advised is not advised again on its way through the root, and an error
// without a remedy passes unchanged.
func TestRemedyOnce(t *testing.T) {
	err := advise(&difuse.LimitError{Limit: 20000, Max: 10000})
	if again := advise(err); again != err || strings.Count(again.Error(), "Z sets") != 1 {
		t.Errorf("advised twice: %q", again)
	}
	plain := errors.New("pbx: the PBX failed (HTTP 500)")
	if advise(plain) != plain {
		t.Errorf("an error without a remedy changed: %q", advise(plain))
	}
}

// TestRemedyForEveryTypedError: the app has its own words for each typed error a user can meet in it, and they
// name keys and the profile, never a flag.
func TestRemedyForEveryTypedError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&transport.TimeoutError{Host: "pbx", Limit: 10 * time.Second}, "timeout in its profile"},
		{&transport.UntrustedCertError{Host: "pbx"}, "ca_file"},
		{&transport.RedirectError{Msg: "moved", Suggest: "https://pbx:443"}, "url to https://pbx:443"},
		{difuse.ErrNoUserList, "f filters"},
		{&difuse.LimitError{Limit: 20000, Max: 10000}, "Z sets a page size of at most 10000"},
		{&difuse.EndlessPagingError{Host: "pbx", Page: 1 << 24}, "P goes to a page"},
		{&difuse.PageTooLongError{Host: "pbx", Page: 1, Max: 5000, Asked: 100}, "Z sets a page size"},
		{&archive.RecordingNotStoredError{ID: "1.2", Reason: "pbx: HTTP 500"}, "sync tries again"},
		{&archive.RecordingNotStoredError{ID: "1.2"}, "sync fetches it"},
		{&archive.DamagedError{Dir: "/calls", Reason: "index.db is empty"}, "move its index.db aside"},
		{&decode.WAVTooLongError{Samples: 1 << 32}, "without converting to WAV"},
	} {
		got := advise(fmt.Errorf("cannot play call 1.2: %w", tc.err)).Error()
		if !strings.Contains(got, tc.want) || strings.Count(got, "; ") < 1 || strings.Contains(got, "--") {
			t.Errorf("%T: %q, want the app's remedy %q and no flag", tc.err, got, tc.want)
		}
	}
}
