package pbxsim

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// generator makes a deterministic, realistic call load. Every day is generated from (seed, day) alone, so a
// query generates only the days it covers and the same options always give the same bytes.
type generator struct {
	seed     int64
	zone     *time.Location
	perDay   int
	night    bool  // Options.AroundTheClock
	first    int64 // civil day of the first day served: the first generated day, or an earlier fixed call's
	genFirst int64 // civil day of the first generated day
	n        int
	cutoff   int64 // wall clock after which no call starts (0: none)
	exts     []extension
	extCum   []float64
	pool     []recording
	dst      bool // the zone changes offset, so some wall-clock times do not exist
	lastN    int  // calls on the cutoff day, which only generation can tell

	// fixed holds the calls that are given rather than generated (the spec's examples), by civil day; their
	// recordings are fixedRecs, and a fixed call's pool index is len(pool) plus its index there.
	fixed     map[int64][]call
	fixedRecs []recording
	fixedUser []cdr.User
}

type extension struct {
	num, name, account, pin string
}

// friendlyNames includes the awkward ones a real PBX has: commas, quotes, apostrophes, accents, and none.
var friendlyNames = []string{
	"Reception", "Smith, John", `Thabo "TJ" Mokoena`, "O'Brien, Pat", "Naledi Dlamini", "Sales Desk",
	"Pieter van der Merwe", "Zoë Adams", "Support Queue", "Jones, Mary-Anne", "Sipho Nkosi", "Accounts",
	"Fatima Patel", "Warehouse", "Lerato Molefe", "du Toit, Anri", "Boardroom", "Kevin Naidoo", "Lindiwe Zulu",
	"Service Desk, After Hours", "Johan Botha", "Ayesha Khan", "Despatch", "Grace Mthembu", "Michael Chen",
	"Nomvula Sithole", "Craig \"Chalky\" White", "Priya Govender", "Francois Joubert", "Themba Ndlovu",
	"Kitchen", "Bongani Khumalo", "Sarah Williams", "Ruan Steyn", "Palesa Mahlangu", "Workshop",
	"Refilwe Mokoena", "IT Help", "Hannah Müller", "",
}

var callerNames = []string{
	"Smith, John", "ACME (Pty) Ltd", `"Big" Bob's Tyres`, "Dr. Nkosi", "Cape Town, Head Office", "UNKNOWN",
	"Mokoena, Thabo", "City of Joburg", "Vodacom", "O'Neill",
}

var accountCodes = []string{"", "", "SALES", "SUPPORT", "ADMIN", "PRJ-1042", "OPS"}

// weekday and weekend load by hour of day: quiet nights, a morning peak, a lunch dip.
var (
	weekdayHours = [24]float64{0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.4, 2, 8, 13, 14, 13, 8, 9, 12, 13, 11, 7, 3, 1.2, 0.8, 0.5, 0.3, 0.2}
	weekendHours = [24]float64{0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2, 3, 3, 3, 2.5, 2, 1.5, 1.2, 1, 0.8, 0.6, 0.5, 0.4, 0.3, 0.3, 0.2}
	weekdayCum   = cumulative(weekdayHours[:])
	weekendCum   = cumulative(weekendHours[:])
)

func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	s := 0.0
	for i, v := range w {
		s += v
		c[i] = s
	}
	return c
}

func pick(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	return min(sort.SearchFloat64s(cum, x), len(cum)-1)
}

func newGenerator(o *Options, pool []recording) *generator {
	g := &generator{seed: o.Seed, zone: o.Zone, perDay: o.CallsPerDay, pool: pool, night: o.AroundTheClock}
	endWall := wallOf(o.End.In(o.Zone))
	last := civilDay(endWall)
	g.genFirst = last - int64(o.Days) + 1
	g.first = g.genFirst
	_, o1 := time.Date(2020, 1, 1, 0, 0, 0, 0, o.Zone).Zone()
	_, o2 := time.Date(2020, 7, 1, 0, 0, 0, 0, o.Zone).Zone()
	g.dst = o1 != o2
	if endWall%secondsPerDay != 0 {
		g.cutoff = endWall
	}
	if o.SpecExamples {
		calls, recs, users := specExamples(o.Zone)
		g.addFixed(calls, recs, users, endWall)
	}
	g.n = int(last - g.first + 1)
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed))
	n := 20 + r.IntN(21)
	nums := r.Perm(99)[:n]
	slices.Sort(nums)
	names := r.Perm(len(friendlyNames))
	g.exts = make([]extension, n)
	w := make([]float64, n)
	for i := range n {
		e := &g.exts[i]
		e.num = strconv.Itoa(2001 + nums[i])
		e.name = friendlyNames[names[i%len(names)]]
		e.account = accountCodes[r.IntN(len(accountCodes))]
		e.pin = fmt.Sprintf("%04d", r.IntN(10000))
		// A few busy extensions (reception, sales) and a long tail.
		w[(i*7)%n] = 1 / math.Pow(float64(i+1), 0.8)
	}
	g.extCum = cumulative(w)
	if g.cutoff != 0 && g.n > 0 {
		g.lastN = len(g.day(g.n-1, nil))
	}
	return g
}

func (g *generator) span() (int64, int) { return g.first, g.n }

func (g *generator) rng(day int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(g.seed)^stream, uint64(day)*0x9E3779B97F4A7C15+stream))
}

// nightSlot is the spacing of the around-the-clock calls: one in each quarter hour.
const nightSlot = 15 * 60

// rawCount is the day's number of generated calls before any cutoff: weekends are quiet, every day varies a
// little, and around the clock adds one call in each quarter hour.
func (g *generator) rawCount(day int64) int {
	n := g.officeCount(day)
	if g.night {
		n += secondsPerDay / nightSlot
	}
	return n
}

// officeCount is the day's number of calls that follow the office-hours load.
func (g *generator) officeCount(day int64) int {
	r := g.rng(day, 1)
	f := 0.85 + 0.3*r.Float64()
	switch time.Unix(day*secondsPerDay, 0).UTC().Weekday() {
	case time.Saturday:
		f *= 0.15
	case time.Sunday:
		f *= 0.06
	}
	return int(float64(g.perDay)*f + 0.5)
}

func (g *generator) count(i int) int {
	day := g.first + int64(i)
	if g.cutoff != 0 && i == g.n-1 {
		return g.lastN
	}
	n := len(g.fixed[day])
	if day >= g.genFirst {
		n += g.rawCount(day)
	}
	return n
}

func (g *generator) users() []cdr.User {
	u := make([]cdr.User, len(g.exts), len(g.exts)+len(g.fixedUser))
	for i, e := range g.exts {
		u[i] = cdr.User{Extension: e.num, Name: e.name, PIN: cdr.Secret(e.pin)}
	}
	return append(u, g.fixedUser...)
}

func (g *generator) open(c *call) (io.ReadCloser, int64, error) {
	var p recording
	if c.pool >= len(g.pool) {
		p = g.fixedRecs[c.pool-len(g.pool)]
	} else {
		p = g.pool[c.pool]
	}
	return io.NopCloser(bytes.NewReader(p.data)), int64(len(p.data)), nil
}

// phone makes a South African looking external number: a landline (011, 021, 031, 012) or a mobile.
func phone(r *rand.Rand, b []byte) []byte {
	prefixes := [...]string{"011", "021", "031", "012", "082", "083", "072", "061", "084"}
	b = append(b, prefixes[r.IntN(len(prefixes))]...)
	v := r.IntN(10000000)
	for d := 1000000; d > 0; d /= 10 {
		b = append(b, byte('0'+v/d%10))
	}
	return b
}

func hex8(b []byte, v int) []byte {
	const digits = "0123456789abcdef"
	for s := 28; s >= 0; s -= 4 {
		b = append(b, digits[(v>>s)&0xf])
	}
	return b
}

func pad2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// day returns day i's calls in start order: the generated ones with any fixed calls of that day among them.
func (g *generator) day(i int, buf []call) []call {
	day := g.first + int64(i)
	fixed := g.fixed[day]
	if day < g.genFirst {
		return append(buf[:0], fixed...)
	}
	calls := g.generate(day, buf)
	if len(fixed) > 0 {
		calls = append(calls, fixed...)
		slices.SortStableFunc(calls, func(a, b call) int { return cmp.Compare(a.wall, b.wall) })
	}
	return calls
}

// generate makes a generated day's calls in start order.
func (g *generator) generate(day int64, buf []call) []call {
	n := g.rawCount(day)
	r := g.rng(day, 2)
	cum := weekdayCum
	date := time.Unix(day*secondsPerDay, 0).UTC()
	if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
		cum = weekendCum
	}
	sods := make([]int, 0, n)
	for range g.officeCount(day) {
		sods = append(sods, pick(r, cum)*3600+r.IntN(3600))
	}
	if g.night {
		// In the first half of each quarter hour, so every quarter hour of the day has a call.
		for slot := 0; slot < secondsPerDay; slot += nightSlot {
			sods = append(sods, slot+r.IntN(nightSlot/2))
		}
	}
	slices.Sort(sods)
	y, mo, d := date.Date()
	var ymd []byte
	ymd = strconv.AppendInt(ymd, int64(y), 10)
	ymd = pad2(ymd, int(mo))
	ymd = pad2(ymd, d)

	calls := buf[:0]
	if cap(calls) < n {
		calls = make([]call, 0, n+n/4)
	}
	// Every string a day's calls own is appended to one arena and cut out of a single string at the end: one
	// allocation per day instead of six per call, which is most of the cost of a million-row index.
	arena := make([]byte, 0, n*150)
	spans := make([][nSpans]span, 0, n)
	base := time.Date(y, mo, d, 0, 0, 0, 0, g.zone)
	sorted, prev := true, int64(0)
	seq := 1 + r.IntN(900) // Asterisk's channel counter since the last restart
	for _, sod := range sods {
		seq += 1 + r.IntN(3)
		h, mi, s := sod/3600, sod/60%60, sod%60
		var start time.Time
		wall := day*secondsPerDay + int64(sod)
		if g.dst {
			// A wall-clock time in a DST gap is moved on by time.Date; keep the clock it was moved to.
			start = time.Date(y, mo, d, h, mi, s, 0, g.zone)
			wall = wallOf(start)
			h, mi, s = start.Clock()
			sorted = sorted && wall >= prev
			prev = wall
		} else {
			start = base.Add(time.Duration(sod) * time.Second)
		}
		if g.cutoff != 0 && wall > g.cutoff {
			break
		}
		e := &g.exts[pick(r, g.extCum)]
		// Built in place: copying a finished call into a reused buffer costs a write barrier per pointer.
		calls = append(calls, call{})
		c := &calls[len(calls)-1]
		c.wall, c.pool = wall, -1
		var sp [nSpans]span
		rec := &c.rec
		rec.Start = start
		rec.Epoch = start.Unix()
		a := len(arena)
		arena = strconv.AppendInt(arena, rec.Epoch, 10)
		arena = append(arena, '.')
		arena = strconv.AppendInt(arena, int64(seq), 10)
		sp[spanID] = span{int32(a), int32(len(arena))}
		rec.Extension = e.num
		rec.FriendlyName = e.name
		rec.Extended = true

		u := r.IntN(100)
		switch {
		case u < 44:
			rec.CallType = cdr.CallInbound
		case u < 78:
			rec.CallType = cdr.CallOutbound
		case u < 93:
			rec.CallType = cdr.CallInternal
		case u < 97:
			rec.CallType = cdr.CallOther
		default:
			rec.CallType = cdr.CallUnknown
		}
		rec.RawCallType = rawType(rec.CallType)

		u = r.IntN(100)
		switch {
		case u < 74:
			rec.Disposition, rec.RawDisposition = cdr.DispAnswered, "CALL_ANSWERED"
		case u < 88:
			rec.Disposition, rec.RawDisposition = cdr.DispNoAnswer, "CALL_NOANSWER"
		case u < 95:
			rec.Disposition, rec.RawDisposition = cdr.DispBusy, "CALL_BUSY"
		default:
			rec.Disposition, rec.RawDisposition = cdr.DispFailed, "CALL_FAILED"
		}
		ring := 2 + r.IntN(20)
		switch rec.Disposition {
		case cdr.DispAnswered:
			talk := 4 + int(r.ExpFloat64()*140)
			rec.DurationS, rec.BillableS = ring+talk, talk
			c.ring = ring
		case cdr.DispNoAnswer:
			rec.DurationS = 15 + r.IntN(30)
		case cdr.DispBusy:
			rec.DurationS = r.IntN(3)
		}
		// Calls end before midnight so every day's rows are inserted (Difuse) before the next day's.
		if room := secondsPerDay - 1 - sod; rec.DurationS > room {
			rec.DurationS = room
			rec.BillableS = max(0, min(rec.BillableS, room-ring))
			c.ring = rec.DurationS - rec.BillableS
		}
		c.end = wall + int64(rec.DurationS)

		// channel appends a SIP channel name, SIP/<peer>-<8 hex digits of the channel counter>.
		channel := func(peer string) span {
			a := len(arena)
			arena = append(arena, "SIP/"...)
			arena = append(arena, peer...)
			arena = append(arena, '-')
			seq++
			arena = hex8(arena, seq)
			return span{int32(a), int32(len(arena))}
		}
		switch rec.CallType {
		case cdr.CallInbound:
			a := len(arena)
			switch v := r.IntN(100); {
			case v < 55:
				arena = phone(r, arena)
			case v < 82:
				arena = append(arena, '"')
				arena = append(arena, callerNames[r.IntN(len(callerNames))]...)
				arena = append(arena, `" <`...)
				arena = phone(r, arena)
				arena = append(arena, '>')
			} // else withheld: empty, as in the spec's own example
			sp[spanCallerID] = span{int32(a), int32(len(arena))}
			sp[spanChannel] = channel("telkom-trunk")
			sp[spanDestChannel] = channel(e.num)
		case cdr.CallOutbound:
			a := len(arena)
			arena = phone(r, arena)
			sp[spanDialled] = span{int32(a), int32(len(arena))}
			rec.AccountCode = e.account
			sp[spanChannel] = channel(e.num)
			sp[spanDestChannel] = channel("telkom-trunk")
		case cdr.CallInternal:
			other := &g.exts[r.IntN(len(g.exts))]
			rec.DialledNumber = other.num
			sp[spanChannel] = channel(e.num)
			sp[spanDestChannel] = channel(other.num)
		case cdr.CallOther:
			rec.DialledNumber = [...]string{"*97", "*43", "600", "*98"}[r.IntN(4)]
			sp[spanChannel] = channel(e.num)
		case cdr.CallUnknown:
			rec.Extension = ""
			rec.FriendlyName = ""
			sp[spanChannel] = channel(e.num)
		}
		if rec.Disposition == cdr.DispFailed {
			sp[spanDestChannel] = span{}
		}
		if rec.AccountCode == "" && r.IntN(10) == 0 {
			rec.AccountCode = e.account
		}

		if rec.Disposition == cdr.DispAnswered && len(g.pool) > 0 && r.IntN(100) < 85 {
			c.pool = r.IntN(len(g.pool))
			p := &g.pool[c.pool]
			a := len(arena)
			arena = append(arena, recPrefix(rec.CallType)...)
			arena = append(arena, e.num...)
			arena = append(arena, '-')
			arena = append(arena, ymd...)
			arena = append(arena, '-')
			arena = pad2(arena, h)
			arena = pad2(arena, mi)
			arena = pad2(arena, s)
			arena = append(arena, '-')
			arena = append(arena, arena[sp[spanID].a:sp[spanID].b]...)
			arena = append(arena, p.ext...)
			sp[spanRecording] = span{int32(a), int32(len(arena))}
			rec.RecordingSize = int64(len(p.data))
		}
		spans = append(spans, sp)
	}
	str := string(arena)
	for k := range calls {
		rec, sp := &calls[k].rec, &spans[k]
		rec.UniqueID = sp[spanID].of(str)
		rec.Channel = sp[spanChannel].of(str)
		rec.DestChannel = sp[spanDestChannel].of(str)
		if sp[spanCallerID].b != 0 {
			rec.CallerID = sp[spanCallerID].of(str)
		}
		if sp[spanDialled].b != 0 {
			rec.DialledNumber = sp[spanDialled].of(str)
		}
		rec.Recording = sp[spanRecording].of(str)
	}
	if !sorted {
		slices.SortStableFunc(calls, func(a, b call) int { return int(a.wall - b.wall) })
	}
	return calls
}

// span is a string's place in a day's arena; the zero span is the empty string.
type span struct{ a, b int32 }

func (s span) of(str string) string { return str[s.a:s.b] }

const (
	spanID = iota
	spanChannel
	spanDestChannel
	spanCallerID
	spanDialled
	spanRecording
	nSpans
)

func rawType(t cdr.CallType) string {
	switch t {
	case cdr.CallInbound:
		return "CALLTYPE_INBOUND"
	case cdr.CallOutbound:
		return "CALLTYPE_OUTBOUND"
	case cdr.CallInternal:
		return "CALLTYPE_INTERNAL"
	case cdr.CallOther:
		return "CALLTYPE_OTHER"
	}
	return "CALLTYPE_UNKNOWN"
}

// recPrefix follows the spec's file names: g8266-… for inbound, OUT8264-… for outbound.
func recPrefix(t cdr.CallType) string {
	switch t {
	case cdr.CallOutbound:
		return "OUT"
	case cdr.CallInternal:
		return "int"
	}
	return "g"
}
