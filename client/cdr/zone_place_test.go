package cdr

import (
	"math/rand/v2"
	"testing"
	"time"
)

// WallPlacer must give exactly what time.Date gives (Zone.Place), the same instant, offset and representation,
// for every wall clock: in daylight-saving gaps and overlaps, across years, in any order; and PlaceShown the
// wall clock the placed time shows.
func TestWallPlacerMatchesDate(t *testing.T) {
	if testing.Short() {
		t.Skip("places over a million wall clocks on one goroutine")
	}
	var locs []*time.Location
	for _, name := range []string{"Europe/London", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia",
		"Africa/Casablanca", "America/Santiago", "Asia/Kolkata", "Africa/Johannesburg"} {
		locs = append(locs, mustZone(t, name))
	}
	locs = append(locs, time.UTC, OffsetZone(7200), OffsetZone(-34200), time.Local)
	rng := rand.New(rand.NewPCG(1, 13))
	for _, loc := range locs {
		p, shownBy := NewWallPlacer(loc), NewWallPlacer(loc)
		check := func(wall time.Time) {
			t.Helper()
			got, want := p.Place(wall), placeIn(wall, loc)
			if got != want {
				t.Fatalf("%s: %s placed as %s, time.Date gives %s", loc, wall.Format(time.DateTime), got, want)
			}
			placed, shown := shownBy.PlaceShown(wall)
			if placed != want || shown != WallClock(want) {
				t.Fatalf("%s: %s placed as %s showing %s; want %s showing %s", loc, wall.Format(time.DateTime),
					placed, shown, want, WallClock(want))
			}
		}
		// Every 10 minutes through the years around the Samoa day that never was and today's rules, in order.
		for w := time.Date(2010, 12, 1, 0, 0, 0, 0, time.UTC); w.Before(time.Date(2013, 1, 1, 0, 0, 0, 0, time.UTC)); w = w.Add(10 * time.Minute) {
			check(w)
		}
		for w := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC); w.Before(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); w = w.Add(7 * time.Minute) {
			check(w)
		}
		// Out of order and far apart, with nanoseconds, as a merged or hostile index would be.
		for range 100_000 {
			check(time.Unix(rng.Int64N(4_000_000_000)-1_000_000_000, rng.Int64N(1e9)).UTC())
		}
		check(time.Time{})
	}
}

// The Placer decides an inferring zone only from rows: a stream without any leaves it open.
func TestPlacerEmptyStreamLeavesZoneOpen(t *testing.T) {
	z := NewZone(nil)
	if err := z.NewPlacer(func(Record) error { return nil }).Flush(); err != nil {
		t.Fatal(err)
	}
	if z.Decided() {
		t.Fatal("an empty stream decided the zone")
	}
}
