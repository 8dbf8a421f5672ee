package cdr

import (
	"fmt"
	"sync"
	"time"
)

// ZoneInfo says which zone a source's wall-clock times are placed in and how it was chosen.
type ZoneInfo struct {
	Location *time.Location
	Inferred bool
	Votes    int // rows whose epoch agreed with the chosen offset
	Samples  int // rows that carried an epoch at all
}

// String is a sentence for people: "UTC+02:00 (inferred from 998 of 1000 rows)". How to set the zone instead
// is the caller's to say.
func (zi ZoneInfo) String() string {
	if zi.Location == nil {
		return "zone not yet known"
	}
	if !zi.Inferred {
		return zi.Location.String()
	}
	if zi.Samples == 0 {
		return zi.Location.String() + " (assumed: no row carried a Unix time)"
	}
	return fmt.Sprintf("%s (inferred from %d of %d rows)", zi.Location, zi.Votes, zi.Samples)
}

// Zone places PBX wall-clock times in a time zone. Given a location (the --tz setting) it uses it; otherwise it
// infers a fixed offset: each row with an epoch votes for wall-clock minus epoch rounded to 15 minutes, and the
// most common offset wins. The decision is taken once, from the first rows, and then kept so every time a
// source yields is placed the same way.
type Zone struct {
	mu      sync.Mutex
	loc     *time.Location
	fixed   bool
	votes   map[int]int
	samples int
}

// NewZone returns a Zone fixed to loc, or an inferring one when loc is nil.
func NewZone(loc *time.Location) *Zone {
	if loc != nil {
		return &Zone{loc: loc, fixed: true}
	}
	return &Zone{votes: map[int]int{}}
}

// maxOffset bounds plausible UTC offsets (UTC-12 … UTC+14).
const maxOffset = 14 * 3600

// Vote records one row's evidence. wall is the PBX wall clock read as if it were UTC; epoch is Unix seconds.
func (z *Zone) Vote(wall time.Time, epoch int64) {
	if epoch <= 0 || z.fixed {
		return
	}
	q, ok := EpochOffset(wall, epoch)
	if !ok {
		return
	}
	z.mu.Lock()
	if z.loc == nil {
		z.votes[q]++
		z.samples++
	}
	z.mu.Unlock()
}

// EpochOffset is the UTC offset, in seconds, that a PBX wall-clock time (read as UTC) and the same moment's Unix
// time imply, rounded to the nearest quarter hour (every zone is whole quarter hours); ok is false when it is no
// zone's (beyond UTC-12 … UTC+14).
func EpochOffset(wall time.Time, epoch int64) (offset int, ok bool) {
	diff := wall.Unix() - epoch
	q := int((diff + sign(diff)*450) / 900 * 900)
	return q, q >= -12*3600 && q <= maxOffset
}

func sign(v int64) int64 {
	if v < 0 {
		return -1
	}
	return 1
}

// Decided reports whether the zone is settled.
func (z *Zone) Decided() bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.loc != nil
}

// decide settles the zone from the votes so far (UTC when there are none). Caller holds mu.
func (z *Zone) decide() {
	if z.loc != nil {
		return
	}
	best, bestN := 0, -1
	for off, n := range z.votes {
		if n > bestN || (n == bestN && abs(off) < abs(best)) {
			best, bestN = off, n
		}
	}
	z.loc = OffsetZone(best)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// OffsetZone is a fixed zone named like "UTC+02:00".
func OffsetZone(offset int) *time.Location {
	s := "+"
	if offset < 0 {
		s, offset = "-", -offset
	}
	name := fmt.Sprintf("UTC%s%02d:%02d", s, offset/3600, offset%3600/60)
	if s == "-" {
		offset = -offset
	}
	return time.FixedZone(name, offset)
}

// Place puts a wall-clock time (read as UTC) into the zone, settling the zone first if needed.
func (z *Zone) Place(wall time.Time) time.Time {
	z.mu.Lock()
	z.decide()
	loc := z.loc
	z.mu.Unlock()
	if wall.IsZero() {
		return wall
	}
	y, mo, d := wall.Date()
	h, mi, s := wall.Clock()
	return time.Date(y, mo, d, h, mi, s, wall.Nanosecond(), loc)
}

// Info describes the zone as settled so far.
func (z *Zone) Info() ZoneInfo {
	z.mu.Lock()
	defer z.mu.Unlock()
	zi := ZoneInfo{Location: z.loc, Inferred: !z.fixed, Samples: z.samples}
	if z.loc != nil && !z.fixed {
		_, off := time.Date(2000, 1, 1, 0, 0, 0, 0, z.loc).Zone()
		zi.Votes = z.votes[off]
	}
	return zi
}

// placerBuffer is how many rows an inferring zone looks at before it decides.
const placerBuffer = 256

// Placer feeds rows whose Start holds a wall clock read as UTC to fn with Start placed in the zone. While an
// inferring zone is undecided it buffers up to 256 rows and votes with them, so streaming starts almost at once
// and every row of a session is placed with the same offset.
type Placer struct {
	z   *Zone
	fn  func(Record) error
	buf []Record
}

// NewPlacer returns a Placer writing to fn. Call Flush at the end of the stream.
func (z *Zone) NewPlacer(fn func(Record) error) *Placer { return &Placer{z: z, fn: fn} }

// Push takes one row.
func (p *Placer) Push(r Record) error {
	if !p.z.Decided() {
		p.z.Vote(r.Start, r.Epoch)
		p.buf = append(p.buf, r)
		if len(p.buf) < placerBuffer {
			return nil
		}
		return p.Flush()
	}
	r.Start = p.z.Place(r.Start)
	return p.fn(r)
}

// Flush settles the zone and passes on the buffered rows.
func (p *Placer) Flush() error {
	buf := p.buf
	p.buf = nil
	for i := range buf {
		buf[i].Start = p.z.Place(buf[i].Start)
		if err := p.fn(buf[i]); err != nil {
			return err
		}
	}
	return nil
}
