package comx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/callscope/callscope/client/cdr"
)

// An index that is one endless line, or one record continued endlessly, is read to its end in bounded memory,
// through Calls and through WriteCalls: the chunker keeps the first 64 KiB of such a record, enough to report
// it, and drops the rest as it arrives. The good line after it is read.
func TestIndexRecordsBounded(t *testing.T) {
	underPeak(t, func(t *testing.T) {
		good := strings.Split(strings.TrimSpace(specLines), "\n")
		for _, tc := range []struct {
			name string
			body func(w io.Writer)
		}{
			{"an endless line", func(w io.Writer) {
				io.WriteString(w, good[0]+"\n")
				repeat(w, "x", 600<<20)
				io.WriteString(w, "\n"+good[1]+"\n")
			}},
			{"an endless record", func(w io.Writer) {
				io.WriteString(w, good[0]+"\n"+good[1])
				repeat(w, "\n continued,", 600<<20)
				io.WriteString(w, "\n"+good[0]+"\n")
			}},
		} {
			h := newHostile(t, func(w http.ResponseWriter, _ *http.Request) { tc.body(w) })
			c := h.client(t)
			var warns []error
			ctx := cdr.WithObserver(context.Background(), cdr.Observer{OnWarn: func(err error) { warns = append(warns, err) }})
			var ids []string
			res, err := c.Calls(ctx, cdr.Query{}, func(r cdr.Record) error { ids = append(ids, r.UniqueID); return nil })
			var le *cdr.LineError
			if err != nil || len(ids) != 2 || res.Skipped != 1 || len(warns) != 1 || !errors.As(warns[0], &le) ||
				!strings.Contains(warns[0].Error(), "longer than 64 KiB") {
				t.Errorf("%s: Calls: ids %v, skipped %d, warnings %v, error %v", tc.name, ids, res.Skipped, warns, err)
			}
			warns = nil
			w := cdr.NewCSVWriter(io.Discard)
			res, err = c.WriteCalls(ctx, cdr.Query{}, nil, w)
			if err != nil || res.Rows != 2 || res.Skipped != 1 || len(warns) != 1 {
				t.Errorf("%s: WriteCalls: rows %d, skipped %d, warnings %v, error %v", tc.name, res.Rows, res.Skipped, warns, err)
			}
			h.srv.Close()
		}
	})
}
