package app

import (
	"os"
	"runtime/debug"
)

// memoryLimit is the collector's soft ceiling while the app runs (issue 13: with a million calls loaded the
// app stays under 400 MB however it is used). The calls themselves take about 150 MB, but the collector lets
// the heap grow to twice what is live before it collects, and a refresh holds the old rows and the new ones for
// a moment: without a ceiling a refresh of a million calls left the process at 540 MB. Under the ceiling the
// collector runs more often instead, which costs little here: the rows hold no pointers for it to follow. With
// far more calls than that the ceiling is passed, and the collector works harder (at most half the CPU).
const memoryLimit = 340 << 20

// limitMemory sets memoryLimit, unless GOMEMLIMIT says otherwise.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
