package comx_test

import (
	"context"
	"testing"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

// BenchmarkCallsLoopback streams about a million calls from pbxsim over loopback HTTP through Calls: the
// client's whole path (HTTP, idle-timeout reader, parser, zone placement) with the simulator generating the
// index in the same process.
func BenchmarkCallsLoopback(b *testing.B) {
	srv, err := pbxsim.Start(pbxsim.Options{Seed: 1, Days: 365, CallsPerDay: 3700, End: time.Date(2024, 3, 14, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ep, err := transport.ParseEndpoint(srv.URL())
	if err != nil {
		b.Fatal(err)
	}
	ep.User, ep.Password = pbxsim.DefaultComxUser, pbxsim.DefaultComxPassword
	c, err := comx.New(comx.Config{Endpoint: ep})
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	rows := 0
	for b.Loop() {
		rows = 0
		ctx := cdr.WithObserver(context.Background(), cdr.Observer{OnProgress: func(n int64) { bytes = n }})
		res, err := c.Calls(ctx, cdr.Query{}, func(cdr.Record) error { rows++; return nil })
		if err != nil || res.Rows != srv.Total() {
			b.Fatalf("%d of %d rows: %v", res.Rows, srv.Total(), err)
		}
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/record")
	b.ReportMetric(float64(rows), "records")
}
