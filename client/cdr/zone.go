package cdr

import (
	"fmt"
	"math"
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
	return placeIn(wall, z.Settle())
}

// Settle decides the zone now from the votes so far (UTC when there are none), if it is not decided yet, and
// returns it.
func (z *Zone) Settle() *time.Location {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.decide()
	return z.loc
}

// placeIn is time.Date of wall's fields in loc.
func placeIn(wall time.Time, loc *time.Location) time.Time {
	if wall.IsZero() {
		return wall
	}
	y, mo, d := wall.Date()
	h, mi, s := wall.Clock()
	return time.Date(y, mo, d, h, mi, s, wall.Nanosecond(), loc)
}

// WallPlacer places wall clocks in one settled location as Zone.Place does, remembering the location's offset
// over the period (between two daylight-saving changes) of the last time it placed: a million rows of one PBX
// cost a subtraction each instead of a calendar computation and a zone look-up. Not safe for concurrent use;
// each goroutine makes its own.
type WallPlacer struct {
	loc      *time.Location
	from, to int64 // placed instants in [from, to) have offset off
	off      int64
}

// NewWallPlacer returns a WallPlacer for loc (a Zone's Settle).
func NewWallPlacer(loc *time.Location) *WallPlacer {
	return &WallPlacer{loc: loc, from: 1, to: 0}
}

// Location is the location p places in.
func (p *WallPlacer) Location() *time.Location { return p.loc }

// Place is Zone.Place for the settled location: time.Date of wall's fields in it.
func (p *WallPlacer) Place(wall time.Time) time.Time {
	placed, _ := p.place(wall)
	return placed
}

// PlaceShown is Place that also returns the wall clock the placed time shows, read as UTC (cdr.WallClock of
// it): wall itself, unless wall does not exist in the location (a daylight-saving gap) and was moved.
func (p *WallPlacer) PlaceShown(wall time.Time) (placed, shown time.Time) {
	placed, same := p.place(wall)
	if same {
		return placed, wall
	}
	return placed, WallClock(placed)
}

// place places wall; same reports that the placed time shows wall's wall clock.
func (p *WallPlacer) place(wall time.Time) (placed time.Time, same bool) {
	if wall.IsZero() {
		return wall, true
	}
	w := wall.Unix()
	// time.Date looks the offset up at the wall clock read as UTC and, if the instant that gives lies outside
	// that offset's period, again at the instant. When both lie in the remembered period its offset is the
	// answer, and the wall clock exists as it is (no daylight-saving gap moves it).
	if t := w - p.off; w >= p.from && w < p.to && t >= p.from && t < p.to {
		return time.Unix(t, int64(wall.Nanosecond())).In(p.loc), true
	}
	placed = placeIn(wall, p.loc)
	_, off := placed.Zone()
	start, end := placed.ZoneBounds()
	p.off, p.from, p.to = int64(off), math.MinInt64, math.MaxInt64
	if !start.IsZero() {
		p.from = start.Unix()
	}
	if !end.IsZero() {
		p.to = end.Unix()
	}
	return placed, false
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
// and every row of a session is placed with the same offset. Once the zone is decided the Placer keeps it, so a
// row costs no lock (see WallPlacer).
type Placer struct {
	z      *Zone
	fn     func(Record) error
	buf    []Record
	placed *WallPlacer // once the zone is decided
}

// NewPlacer returns a Placer writing to fn. Call Flush at the end of the stream.
func (z *Zone) NewPlacer(fn func(Record) error) *Placer { return &Placer{z: z, fn: fn} }

// Push takes one row.
func (p *Placer) Push(r Record) error {
	if p.placed == nil {
		if !p.z.Decided() {
			p.z.Vote(r.Start, r.Epoch)
			p.buf = append(p.buf, r)
			if len(p.buf) < placerBuffer {
				return nil
			}
			return p.Flush()
		}
		p.placed = NewWallPlacer(p.z.Settle())
	}
	r.Start = p.placed.Place(r.Start)
	return p.fn(r)
}

// Flush settles the zone and passes on the buffered rows.
func (p *Placer) Flush() error {
	if len(p.buf) == 0 {
		return nil // nothing seen: an inferring zone stays open for the rows of a later stream
	}
	if p.placed == nil {
		p.placed = NewWallPlacer(p.z.Settle())
	}
	buf := p.buf
	p.buf = nil
	for i := range buf {
		buf[i].Start = p.placed.Place(buf[i].Start)
		if err := p.fn(buf[i]); err != nil {
			return err
		}
	}
	return nil
}
