package playerbar

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callscope/callscope/client/reccache"
	"github.com/callscope/callscope/client/transport"
	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

// benchPlay measures a play request to the first sample taken by the output: the PBX's answer over loopback
// (or the disk cache), opening the decoder on the growing file, loading and starting the player.
func benchPlay(b *testing.B, cached bool) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "recordings", "callback-ulaw.wav"))
	if err != nil {
		b.Skip(err)
	}
	srv := httptest.NewServer(&pbx{files: map[string][]byte{"cb.wav": data}})
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	tc, _ := transport.New(transport.Config{Timeout: 5 * time.Second})
	src := &httpSource{base: u, tc: tc}
	ctx := common.NewContext(theme.New(true, false), nil, nil)
	var m *Model
	newModel := func() {
		cache, _ := reccache.Open(b.TempDir())
		m = New(ctx, Options{Player: NullPlayer, Source: src, Cache: cache})
	}
	newModel()
	defer func() { m.Close() }()
	rec := call("1.1", "cb.wav")
	if cached { // warm the cache once
		m.Play(rec)
		msg := m.en.load(context.Background(), m.gen, rec, newDLProgress(m.gen))
		<-msg.entry.Done()
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if !cached {
			b.StopTimer()
			m.Close()
			newModel()
			// Open the player outside the timing: it happens once per session.
			m.en.mu.Lock()
			m.en.ensure()
			m.en.mu.Unlock()
			b.StartTimer()
		}
		m.gen++
		msg := m.en.load(context.Background(), m.gen, rec, newDLProgress(m.gen))
		if msg.err != nil {
			b.Fatal(msg.err)
		}
		select {
		case <-m.en.get().FirstSample():
		case <-time.After(5 * time.Second):
			b.Fatal("no sound")
		}
	}
}

func BenchmarkPlayCold(b *testing.B)   { benchPlay(b, false) }
func BenchmarkPlayCached(b *testing.B) { benchPlay(b, true) }
