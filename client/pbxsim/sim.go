// Package pbxsim is a PBX simulator: a real HTTP server that answers the Com.X HTTP CDR retrieval API
// (/commagui/cdr, spec v1.6) and the Difuse CDR API (/pbx/cdr/data) from one set of calls, so callscope's tests
// and `callscope --demo` run without a PBX.
//
// The calls come from a directory (an index.txt in Com.X format with the recordings beside it) or from a seeded
// generator. The generator makes each day from (seed, day) alone, so a query generates only the days it covers,
// a million-row index streams without being held in memory, and the same options always give the same bytes.
//
// Recordings are real audio files. Options.RecordingsDir names a directory of .gsm and .wav files; when it is
// empty, DefaultRecordings finds the repository's testdata/recordings (go run, go test), and outside the
// repository (an installed binary) a few A-law WAV files of synthetic speech-like sound are made at start-up.
//
// Faults (latency, a stall, 401, 500, a body cut short, malformed index lines, a truncated zip) are switched on
// through Options.Faults or at run time with SetFaults.
package pbxsim

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
)

// Defaults. The Com.X credentials are the spec's factory default (comx's, which the app warns about); the
// Difuse extension is one with "CDR access".
const (
	DefaultComxUser        = comx.FactoryDefaultUser
	DefaultComxPassword    = comx.FactoryDefaultPassword
	DefaultDifuseExtension = "4001"
	DefaultDifuseSecret    = "difuse-secret"
	DefaultDays            = 30
	DefaultCallsPerDay     = 200
	DefaultZone            = "Africa/Johannesburg"
)

// Options configure a simulator. The zero value is a working simulator: 30 days of generated calls ending now,
// in Africa/Johannesburg, with the default credentials.
type Options struct {
	Seed        int64
	Days        int       // generated days, ending on End's date; DefaultDays when 0
	End         time.Time // last generated day; calls after End's time of day are left out unless it is midnight. Now when zero, or a day past Now when Now is set
	CallsPerDay int       // on an ordinary weekday; weekends are quieter. DefaultCallsPerDay when 0
	Zone        *time.Location
	DataDir     string // serve this directory's index.txt and recordings instead of generating

	// Now sets the PBX's own clock (clock.go): it starts at Now and advances in real time, or stands still when
	// FrozenClock is set. Answers carry it as their Date header, and only calls that had ended by it exist.
	// Zero: this computer's clock, with every call served. SetClock changes it at run time.
	Now         time.Time
	FrozenClock bool

	RecordingsDir string // .gsm/.wav files handed to generated calls; DefaultRecordings(), then synthesized, when empty

	// AroundTheClock adds a steady stream of generated calls at every hour of every day, one in each quarter
	// hour, on top of the office-hours load: a PBX that is opened at night or on a Sunday still shows calls
	// (the demo). The office-hours calls of a day stay as they are without it.
	AroundTheClock bool
	// SpecExamples adds the calls the Com.X specification uses as examples (1362123180.67 and 1362125482.87
	// on 2013-03-01, 1392723066.6, 1396000115.1 at 2014-03-28 11:48:35) with recordings, GSM except
	// 1392723066.6's A-law WAV, so the spec's and callscope's examples work against the simulator. Ignored
	// with DataDir.
	SpecExamples bool

	ComxUser        string
	ComxPassword    string
	DifuseExtension string
	DifuseSecret    string

	// DifuseOrder is the order /pbx/cdr/data pages its rows in: ByEnd (the default) as Asterisk writes CDRs
	// when calls hang up, or ByStart, as an imported history or some real systems do.
	DifuseOrder RowOrder

	NoExtendedLicence bool // answer &extended with 11 fields, as a PBX without the extended licence does
	CRLF              bool // end index lines with CRLF instead of LF
	BOM               bool // start the txt index with a UTF-8 byte order mark

	Addr   string // Start listens here; 127.0.0.1:0 when empty
	Faults Faults
	Log    io.Writer // one line per request; nil is silent

	Push PushOptions // Difuse's "CDR Log To API" job (push.go); off when Push.URL is empty
}

// Faults to inject. Zero values are off.
type Faults struct {
	Latency          time.Duration // wait this long before answering
	Stall            bool          // accept the request and send nothing until the client gives up
	Unauthorized     bool          // answer every request with 401
	ServerErrorEvery int           // answer every Nth request with 500 (1: every request)
	CutAfterBytes    int64         // send this many body bytes, then drop the connection
	MalformedEvery   int           // replace every Nth index line (1-based) with a malformed one
	TruncateZip      bool          // end ziprec archives without their central directory
	// DifuseNoTotal leaves total_pages out of Difuse answers and answers a page past the last with the last
	// page again, as a PBX that clamps page does.
	DifuseNoTotal bool
}

// RowOrder is the order Difuse rows are paged in.
type RowOrder int

const (
	ByEnd   RowOrder = iota // by end time: a row is written when its call hangs up
	ByStart                 // by start time
)

func (o RowOrder) String() string {
	if o == ByStart {
		return "start"
	}
	return "end"
}

// ParseRowOrder reads "end" or "start".
func ParseRowOrder(s string) (RowOrder, error) {
	switch s {
	case "end":
		return ByEnd, nil
	case "start":
		return ByStart, nil
	}
	return 0, fmt.Errorf("row order %q: use end or start", s)
}

// Sim is a simulator; Handler serves it.
type Sim struct {
	o      Options
	data   dataset
	first  int64 // civil day of day 0
	prefix []int // prefix[i] = calls on days before day i; prefix[n] = total
	faults atomic.Pointer[Faults]
	clock  clockState
	reqs   atomic.Int64
	done   chan struct{}
	once   sync.Once

	extOnce   sync.Once
	extCounts map[string][]int32 // per extension, calls per day that involve it (Difuse extension filter)

	mux  *http.ServeMux
	push *pusher // nil unless Options.Push.URL is set
}

// DefaultLocation is the zone a simulator runs in when Options.Zone is nil: DefaultZone, or on a system without
// tzdata the same fixed UTC+2 (Johannesburg keeps no daylight saving), so times agree either way.
func DefaultLocation() *time.Location {
	loc, err := time.LoadLocation(DefaultZone)
	if err != nil {
		return time.FixedZone("UTC+02:00", 2*3600)
	}
	return loc
}

// New builds a simulator. It fails only on unusable options: an unreadable data or recordings directory.
func New(o Options) (*Sim, error) {
	if o.Zone == nil {
		o.Zone = DefaultLocation()
	}
	if o.Days <= 0 {
		o.Days = DefaultDays
	}
	if o.CallsPerDay <= 0 {
		o.CallsPerDay = DefaultCallsPerDay
	}
	if o.End.IsZero() {
		o.End = time.Now()
		if !o.Now.IsZero() {
			// Days of history up to the PBX's present, and a day of calls its clock has yet to reach.
			o.End = o.Now.Add(24 * time.Hour)
			o.Days++
		}
	}
	if o.ComxUser == "" {
		o.ComxUser = DefaultComxUser
	}
	if o.ComxPassword == "" {
		o.ComxPassword = DefaultComxPassword
	}
	if o.DifuseExtension == "" {
		o.DifuseExtension = DefaultDifuseExtension
	}
	if o.DifuseSecret == "" {
		o.DifuseSecret = DefaultDifuseSecret
	}
	s := &Sim{o: o, done: make(chan struct{})}
	if o.DataDir != "" {
		d, err := loadDir(o.DataDir, o.Zone)
		if err != nil {
			return nil, err
		}
		s.data = d
	} else {
		var pool []recording
		dir := o.RecordingsDir
		if dir == "" {
			dir = DefaultRecordings()
		}
		if dir != "" {
			var err error
			if pool, err = loadRecordings(dir); err != nil {
				return nil, err
			}
		} else {
			pool = synthRecordings()
		}
		s.data = newGenerator(&s.o, pool)
	}
	first, n := s.data.span()
	s.first = first
	s.prefix = make([]int, n+1)
	for i := range n {
		s.prefix[i+1] = s.prefix[i] + s.data.count(i)
	}
	s.SetFaults(o.Faults)
	s.SetClock(o.Now, o.FrozenClock)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/commagui/cdr", s.serveComx)
	s.mux.HandleFunc("/pbx/cdr/data", s.serveDifuse)
	s.mux.HandleFunc("/pbx/cdr/recordings/", s.serveDifuseRecording)
	if o.Push.URL != "" {
		s.push = s.newPusher(o.Push, "")
	}
	return s, nil
}

// SetFaults replaces the fault switches; requests already running keep the ones they started with.
func (s *Sim) SetFaults(f Faults) { s.faults.Store(&f) }

// Faults returns the current fault switches.
func (s *Sim) Faults() Faults { return *s.faults.Load() }

// Options returns the options in effect, defaults filled in.
func (s *Sim) Options() Options { return s.o }

// Total is the number of calls the simulator holds.
func (s *Sim) Total() int { return s.prefix[len(s.prefix)-1] }

// Users lists the PBX's extensions, PINs included (as Secrets).
func (s *Sim) Users() []cdr.User { return s.data.users() }

// Calls passes every call whose wall-clock start is in [from, to) to fn in start order, as a client reading the
// extended index would see it: Start placed in the PBX's zone, sizes in bytes. A zero from or to is open. Only
// the wall clock of from and to counts, as in a Com.X query. fn returning false stops.
func (s *Sim) Calls(from, to time.Time, fn func(cdr.Record) bool) {
	var lo, hi int64 = minWall, maxWall
	if !from.IsZero() {
		lo = wallOf(from)
	}
	if !to.IsZero() {
		hi = wallOf(to)
	}
	s.rangeCalls(lo, hi, func(c *call) bool { return fn(c.rec) })
}

const (
	minWall = -1 << 62
	maxWall = 1 << 62
)

// rangeCalls streams the calls whose wall clock is in [lo, hi) and that exist at the PBX's present (clock.go),
// generating only the days that cover it.
func (s *Sim) rangeCalls(lo, hi int64, fn func(*call) bool) {
	n := len(s.prefix) - 1
	vis := s.visibleUntil()
	d0, d1 := 0, n-1
	if lo > minWall {
		d0 = max(d0, int(civilDay(lo)-s.first))
	}
	if hi < maxWall {
		d1 = min(d1, int(civilDay(hi-1)-s.first))
	}
	if vis < maxWall {
		d1 = min(d1, int(civilDay(vis)-s.first)) // a call that starts after the present has not ended by it
	}
	d0 = max(d0, 0)
	each := func(calls []call) bool {
		for i := range calls {
			c := &calls[i]
			if c.wall < lo {
				continue
			}
			if c.wall >= hi || c.wall > vis {
				return false
			}
			if !ended(c, vis) {
				continue // still going on: the PBX writes it when it ends
			}
			if !fn(c) {
				return false
			}
		}
		return true
	}
	if _, gen := s.data.(*generator); !gen || d1-d0 < 2 {
		var buf []call
		for d := d0; d <= d1; d++ {
			if s.data.count(d) == 0 {
				continue
			}
			buf = s.data.day(d, buf)
			if !each(buf) {
				return
			}
		}
		return
	}
	// Long ranges generate the next days on another core while this one writes out the current day; three
	// buffers circulate, so memory stays at a few days' calls whatever the range.
	const buffers = 3
	free := make(chan []call, buffers)
	for range buffers {
		free <- nil
	}
	out := make(chan []call, buffers-1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(out)
		for d := d0; d <= d1; d++ {
			if s.data.count(d) == 0 {
				continue
			}
			var buf []call
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			select {
			case out <- s.data.day(d, buf):
			case <-stop:
				return
			}
		}
	}()
	for calls := range out {
		if !each(calls) {
			return
		}
		free <- calls
	}
}

// byID finds a call by unique ID: the ID's Unix time names the day to look in.
func (s *Sim) byID(id string) (call, bool) {
	var epoch int64
	if _, err := fmt.Sscanf(id, "%d.", &epoch); err != nil || epoch <= 0 {
		return s.scan(func(c *call) bool { return c.rec.UniqueID == id })
	}
	wall := wallOf(time.Unix(epoch, 0).In(s.o.Zone))
	// A directory's IDs may disagree with the zone; look a day either side before giving up.
	for _, d := range []int64{0, -1, 1} {
		i := int(civilDay(wall) + d - s.first)
		if i < 0 || i >= len(s.prefix)-1 {
			continue
		}
		calls := s.data.day(i, nil)
		for k := range calls {
			if calls[k].rec.UniqueID == id {
				return calls[k], ended(&calls[k], s.visibleUntil())
			}
		}
	}
	if _, ok := s.data.(*dirData); ok {
		return s.scan(func(c *call) bool { return c.rec.UniqueID == id })
	}
	return call{}, false
}

func (s *Sim) scan(match func(*call) bool) (found call, ok bool) {
	s.rangeCalls(minWall, maxWall, func(c *call) bool {
		if match(c) {
			found, ok = *c, true
			return false
		}
		return true
	})
	return
}

// byStart finds the first call that started at exactly this wall clock.
func (s *Sim) byStart(wall int64) (found call, ok bool) {
	s.rangeCalls(wall, wall+1, func(c *call) bool {
		found, ok = *c, true
		return false
	})
	return
}

// dayAt returns the day holding the k-th call (0-based) in insertion order.
func (s *Sim) dayAt(prefix []int, k int) int {
	return sort.Search(len(prefix)-1, func(i int) bool { return prefix[i+1] > k })
}

// Handler serves both APIs with the fault switches applied.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Server is a simulator listening on a loopback port.
type Server struct {
	*Sim
	ln       net.Listener
	srv      *http.Server
	url      string
	stopped  chan struct{} // closed when Serve has returned
	serveErr error         // what Serve returned; set before stopped is closed
}

// Start builds a simulator and serves it on Options.Addr (127.0.0.1 on a free port when empty) until Close.
func Start(o Options) (*Server, error) {
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pbxsim cannot listen on %s: %w", addr, err)
	}
	srv := &Server{Sim: s, ln: ln, url: "http://" + ln.Addr().String(), stopped: make(chan struct{})}
	srv.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		srv.serveErr = srv.srv.Serve(ln)
		close(srv.stopped)
	}()
	if s.push != nil {
		s.push.base = srv.url
		go s.runPushes()
	}
	return srv, nil
}

// URL is the server's base URL, e.g. http://127.0.0.1:40123; clients append /commagui/cdr or /pbx/cdr/data.
func (srv *Server) URL() string { return srv.url }

// Stopped is closed once the server no longer answers: after Close, or on its own when its listener fails (Close
// then says why).
func (srv *Server) Stopped() <-chan struct{} { return srv.stopped }

// Close stops the server, dropping open connections (stalled requests included). Its error is a server that had
// stopped serving before it was closed, or one that could not close its connections.
func (srv *Server) Close() error {
	srv.Sim.stop()
	err := srv.srv.Close()
	<-srv.stopped
	if !errors.Is(srv.serveErr, http.ErrServerClosed) {
		return fmt.Errorf("pbxsim stopped serving on %s before it was closed: %w", srv.ln.Addr(), srv.serveErr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// stop releases stalled requests.
func (s *Sim) stop() { s.once.Do(func() { close(s.done) }) }
