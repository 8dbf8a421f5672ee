package peakrss

import (
	"strings"
	"testing"
)

// grow allocates and touches n bytes, so they are resident.
func grow(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

var sink []byte

func TestMeasuresPeak(t *testing.T) {
	if Child(t) {
		sink = grow(100 << 20)
		return
	}
	rss := Run(t, 1<<30)
	t.Logf("peak RSS %d MB", rss>>20)
	if rss < 100<<20 || rss > 250<<20 {
		t.Errorf("peak RSS %d MB, want a little over the 100 MB the child touched", rss>>20)
	}
}

// The parent's own peak does not count: Go starts a child with vfork, which shares the parent's memory until
// the exec, and the kernel then keeps the larger of the two high-water marks in the child's rusage.
func TestParentPeakNotCounted(t *testing.T) {
	if Child(t) {
		return
	}
	big := grow(300 << 20)
	rss := Run(t, 1<<30)
	t.Logf("peak RSS %d MB with a parent of %d MB", rss>>20, len(big)>>20)
	if rss > 100<<20 {
		t.Errorf("peak RSS %d MB for a child that allocated nothing: the parent's peak was counted", rss>>20)
	}
}

func TestCapStopsTheChild(t *testing.T) {
	if Child(t) {
		sink = grow(600 << 20)
		return
	}
	_, out, err := Measure(t, 256<<20)
	if err == nil || !strings.Contains(out, "out of memory") {
		t.Errorf("a child over its cap: err %v, output:\n%s", err, tail(out, 10))
	}
}
