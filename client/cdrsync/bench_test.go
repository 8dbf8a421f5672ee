package cdrsync

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/pbxsim"
	"github.com/callscope/callscope/client/transport"
)

// BenchmarkSync100k syncs 100,000 calls (27 busy days, with their recordings) from pbxsim's Com.X API over
// loopback into an empty archive: ziprec chunks of a day, spooled, checked, stored and committed.
func BenchmarkSync100k(b *testing.B) {
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, zone).Add(-time.Second)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 27, End: end, CallsPerDay: 5000, Zone: zone, Seed: 7})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	calls := srv.Total()
	cpu := processCPU()
	for b.Loop() {
		a, err := archive.Init(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		st, err := Run(context.Background(), comxClient(b, srv.URL(), zone), a, Options{Zone: zone,
			Since: time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), Now: func() time.Time { return end.Add(time.Second) }})
		if err != nil {
			b.Fatal(err)
		}
		if st.Calls != calls {
			b.Fatalf("synced %d calls of %d", st.Calls, calls)
		}
		b.ReportMetric(float64(st.Recordings), "recordings")
		b.ReportMetric(float64(st.Bytes)/(1<<20), "MiB")
		a.Close()
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(calls), "calls")
	b.ReportMetric(float64(calls)*float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// reportCPU reports the CPU time the process (the simulator included) spent per operation since cpu: on a busy
// machine the wall clock also counts the time other programs had the cores.
func reportCPU(b *testing.B, cpu time.Duration) {
	if used := processCPU() - cpu; used > 0 {
		b.ReportMetric(used.Seconds()/float64(b.N), "cpu-s/op")
	}
}

// BenchmarkSyncDifuse syncs about 3,000 calls with their recordings from pbxsim's Difuse API, answering 2 ms late
// as a PBX on the LAN does, into an empty archive: pages of calls, then one request per recording. (The
// simulator makes a whole day to answer each recording, so it takes much of the time itself.)
func BenchmarkSyncDifuse(b *testing.B) {
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, zone).Add(-time.Second)
	srv, err := pbxsim.Start(pbxsim.Options{Days: 3, End: end, CallsPerDay: 1000, Zone: zone, Seed: 7,
		Faults: pbxsim.Faults{Latency: 2 * time.Millisecond}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	calls := srv.Total()
	u, _ := url.Parse(srv.URL())
	cpu := processCPU()
	for b.Loop() {
		a, err := archive.Init(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		c, err := difuse.New(difuse.Config{Endpoint: transport.Endpoint{URL: u, User: pbxsim.DefaultDifuseExtension,
			Password: cdr.Secret(pbxsim.DefaultDifuseSecret)}, Zone: zone})
		if err != nil {
			b.Fatal(err)
		}
		st, err := Run(context.Background(), c, a, Options{Zone: zone,
			Since: time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC), Now: func() time.Time { return end.Add(time.Second) }})
		if err != nil {
			b.Fatal(err)
		}
		if st.Calls != calls {
			b.Fatalf("synced %d calls of %d", st.Calls, calls)
		}
		b.ReportMetric(float64(st.Recordings), "recordings")
		a.Close()
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(calls), "calls")
	b.ReportMetric(float64(calls)*float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
