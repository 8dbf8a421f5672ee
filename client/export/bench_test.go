package export

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkSave exports every recording of two simulated days (about 50 files, 3 MB) from pbxsim over
// loopback into a fresh folder, as served and converted to WAV, with 1 and 4 downloads at once.
func BenchmarkSave(b *testing.B) {
	f := twoDays(b)
	for _, convert := range []string{"", "wav"} {
		for _, par := range []int{1, 4} {
			b.Run(fmt.Sprintf("convert=%q/parallel=%d", convert, par), func(b *testing.B) {
				var read int64
				for b.Loop() {
					sum, err := Save(context.Background(), Records(f.calls), Options{Source: f.src, Dir: b.TempDir(),
						Convert: convert, Parallel: par, Resume: true})
					if err != nil || sum.Failed != 0 {
						b.Fatalf("%+v %v", sum, err)
					}
					read = sum.Downloaded
				}
				b.SetBytes(read)
				b.ReportMetric(float64(len(f.withRecording())), "files/op")
			})
		}
	}
}
