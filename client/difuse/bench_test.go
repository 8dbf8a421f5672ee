package difuse_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/pbxsim"
)

// bigSim is about a million rows: 1,000 days of a busy PBX (quieter weekends).
func bigSim(b *testing.B) *simPBX {
	p := startSim(b, pbxsim.Options{Days: 1000, CallsPerDay: 1300, Seed: 11})
	b.Logf("simulated PBX: %d rows", p.Total())
	return p
}

// BenchmarkRangeOneDay is `callscope calls --from D --to D+1` against a 1M-row Difuse PBX: the binary search
// plus the day's pages. requests/op is counted by the server.
func BenchmarkRangeOneDay(b *testing.B) {
	p := bigSim(b)
	zone := pbxsim.DefaultLocation()
	from := time.Date(2022, 6, 15, 0, 0, 0, 0, zone) // a Wednesday
	for _, limit := range []int{100, 10} {
		b.Run("limit="+strconv.Itoa(limit), func(b *testing.B) {
			c := p.client(b, func(c *difuse.Config) { c.Zone = zone; c.Limit = limit })
			p.requests.Store(0)
			rows, pages := 0, 0
			for b.Loop() {
				res, err := c.Calls(b.Context(), cdr.Query{From: from, To: from.AddDate(0, 0, 1)},
					func(cdr.Record) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				rows, pages = res.Rows, res.TotalPages
			}
			b.ReportMetric(float64(p.requests.Load())/float64(b.N), "requests/op")
			b.ReportMetric(float64(rows), "rows/op")
			b.ReportMetric(float64(pages), "pages")
		})
	}
}

// BenchmarkAllPages reads every row of the 1M-row PBX (no range): the cost a range query avoids, and the
// client's JSON throughput.
func BenchmarkAllPages(b *testing.B) {
	p := bigSim(b)
	zone := pbxsim.DefaultLocation()
	c := p.client(b, func(c *difuse.Config) { c.Zone = zone; c.Limit = 1000 })
	var bytes int64
	p.requests.Store(0)
	rows := 0
	for b.Loop() {
		ctx := cdr.WithObserver(b.Context(), cdr.Observer{OnProgress: func(n int64) { bytes = n }})
		res, err := c.Calls(ctx, cdr.Query{}, func(cdr.Record) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		rows = res.Rows
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(p.requests.Load())/float64(b.N), "requests/op")
	b.ReportMetric(float64(rows), "rows/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
}

// BenchmarkOnePage reads one page of 1,000 spec-shaped rows from a loopback server: the JSON decoding and row
// mapping every page goes through.
func BenchmarkOnePage(b *testing.B) {
	p := startSim(b, pbxsim.Options{Days: 10, CallsPerDay: 300, Seed: 3})
	c := p.client(b, func(c *difuse.Config) { c.Zone = pbxsim.DefaultLocation() })
	var bytes int64
	for b.Loop() {
		ctx := cdr.WithObserver(b.Context(), cdr.Observer{OnProgress: func(n int64) { bytes = n }})
		res, err := c.Calls(ctx, cdr.Query{Page: 2, Limit: 1000}, func(cdr.Record) error { return nil })
		if err != nil || res.Rows != 1000 {
			b.Fatal(res, err)
		}
	}
	b.SetBytes(bytes)
}
