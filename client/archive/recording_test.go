package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestWriteRecordingSizes stores recordings around the in-memory limit, from several goroutines at once: each is
// stored whole under the SHA-256 of its bytes, storing the same bytes again writes nothing, and nothing is
// left in tmp.
func TestWriteRecordingSizes(t *testing.T) {
	a, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, size := range []int{0, 1, 33, memRecording - 1, memRecording, memRecording + 1, 3*memRecording + 7} {
		audio := make([]byte, size)
		for i := range audio {
			audio[i] = byte(rng.IntN(256))
		}
		sum := sha256.Sum256(audio)
		want := hex.EncodeToString(sum[:])
		var wg sync.WaitGroup
		blobs := make([]Blob, 4)
		errs := make([]error, 4)
		for i := range blobs {
			wg.Go(func() {
				// A reader that hands out a few bytes at a time, as a network body does.
				blobs[i], errs[i] = a.StoreRecording(io.LimitReader(&trickle{b: audio}, int64(size)))
			})
		}
		wg.Wait()
		for i, b := range blobs {
			if errs[i] != nil || b.Hash != want || b.Size != int64(size) {
				t.Fatalf("size %d: %+v %v (want hash %s)", size, b, errs[i], want)
			}
		}
		stored, err := os.ReadFile(a.blobPath(want, blobs[0].Format))
		if err != nil || !bytes.Equal(stored, audio) {
			t.Fatalf("size %d: stored %d bytes, %v", size, len(stored), err)
		}
		p, err := a.WriteRecording(bytes.NewReader(audio))
		if err != nil || p.tmp != "" || p.Hash != want {
			t.Fatalf("size %d: storing again wrote %q (%v)", size, p.tmp, err)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(a.Dir(), TmpName))
	if len(ents) != 0 {
		t.Fatalf("tmp left behind: %v", ents)
	}
	// A body that fails part way is an error, and leaves nothing behind.
	broken := io.MultiReader(bytes.NewReader(make([]byte, memRecording+10)), iotest{errors.New("connection reset")})
	if _, err := a.WriteRecording(broken); err == nil || err.Error() != "connection reset" {
		t.Fatalf("broken body: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(a.Dir(), TmpName)); len(ents) != 0 {
		t.Fatalf("a failed write left %v", ents)
	}
}

// trickle reads a few hundred bytes at a time.
type trickle struct{ b []byte }

func (t *trickle) Read(p []byte) (int, error) {
	if len(t.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 700)], t.b)
	t.b = t.b[n:]
	return n, nil
}

type iotest struct{ err error }

func (e iotest) Read([]byte) (int, error) { return 0, e.err }
