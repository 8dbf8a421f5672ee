package calltable

import (
	"cmp"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/callscope/callscope/client/cdr"
)

// oddRecords are records the compact form cannot hold, or holds only just: they must come back unchanged.
func oddRecords() []cdr.Record {
	plus2 := cdr.OffsetZone(7200)
	return []cdr.Record{
		{}, // nothing at all
		{UniqueID: "1.1", Start: time.Date(2024, 3, 1, 9, 0, 0, 123, plus2), Epoch: 1, CallType: "conference",
			RawCallType: "CALLTYPE_CONFERENCE", Extension: "201", DialledNumber: "0821234567",
			CallerID: `"Smith, John" <2001>`, Disposition: cdr.DispAnswered, RawDisposition: "CALL_ANSWERED",
			DurationS: 61, BillableS: 50, RecordingSize: cdr.Unknown, Recording: "https://pbx/rec?id=1",
			Extended: true, FriendlyName: "Zoë Müller", AccountCode: "acc", Channel: "SIP/201-1", DestChannel: "SIP/x"},
		{UniqueID: "2.2", Start: time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)},       // beyond UnixNano
		{UniqueID: "3.3", Start: time.Date(1600, 1, 1, 0, 0, 0, 0, time.Local)},     // before it
		{UniqueID: "4.4", DurationS: math.MaxInt32 + 1, BillableS: cdr.Unknown},     // beyond int32
		{UniqueID: "5.5", CallerID: strings.Repeat("x", textMax+1), Extension: "7"}, // too much text for a row
		{UniqueID: "6.6", Start: time.Date(2024, 3, 1, 9, 0, 0, 0, time.Local), RecordingSize: 1 << 40},
		// The epoch is kept as its distance from the start's second, when that fits.
		{UniqueID: "7.7", Start: time.Date(2024, 3, 1, 9, 0, 0, 0, plus2), Epoch: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC).Unix()},
		{UniqueID: "8.8", Start: time.Date(2024, 3, 1, 9, 0, 0, 0, plus2), Epoch: 1 << 40}, // too far: whole
		{UniqueID: "9.9", Epoch: 1_700_000_000}, // no start
		{UniqueID: "10.10", Start: time.Date(1960, 1, 1, 0, 0, 0, 500e6, time.UTC), Epoch: -315619200},
		{UniqueID: "11.11", Start: time.Date(2024, 3, 1, 9, 0, 0, 0, plus2), RecordingSize: math.MaxInt32 + 1}, // whole
		{UniqueID: "12.12", Start: time.Date(2024, 3, 1, 9, 0, 0, 0, plus2), RecordingSize: math.MaxInt32, Epoch: -1},
	}
}

func TestStoreRoundTrip(t *testing.T) {
	if n := unsafe.Sizeof(row{}); n != 48 {
		t.Errorf("a row is %d bytes; the memory figures assume 48", n)
	}
	recs := append(oddRecords(), makeRecordsFrom(0, 3*chunkLen)...) // several chunks, several blocks
	var st store
	for i := range recs {
		st.add(&recs[i])
	}
	if st.len() != len(recs) {
		t.Fatalf("len %d, want %d", st.len(), len(recs))
	}
	whole := 0
	for i := range recs {
		got := st.record(int32(i))
		if !reflect.DeepEqual(got, recs[i]) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, got, recs[i])
		}
		if st.key(int32(i)) != markKey(&recs[i]) {
			t.Errorf("row %d key %q, want %q", i, st.key(int32(i)), markKey(&recs[i]))
		}
		if st.otherParty(int32(i)) != recs[i].OtherParty() {
			t.Errorf("row %d other party %q, want %q", i, st.otherParty(int32(i)), recs[i].OtherParty())
		}
		if st.row(int32(i)).flags&flagWhole != 0 {
			whole++
		}
	}
	if whole != 7 {
		t.Errorf("%d records kept whole, want the 7 that do not fit", whole)
	}
}

// TestStoreCopiesText checks the store keeps its own copy of every string, so a parser's buffer (which it
// reuses for the next lines) is neither kept alive nor able to change a loaded row.
func TestStoreCopiesText(t *testing.T) {
	buf := []byte("1396000115.1,internal,203,0821234567,Reception,SIP/203-1")
	str := unsafe.String(&buf[0], len(buf))
	f := strings.Split(str, ",")
	r := cdr.Record{UniqueID: f[0], CallType: cdr.CallType(f[1]), Extension: f[2], DialledNumber: f[3],
		FriendlyName: f[4], Channel: f[5], Start: base}
	big := r
	big.CallerID = strings.Repeat("y", textMax+1) // the whole-record path copies too
	var st store
	st.add(&r)
	st.add(&big)
	for i := range buf {
		buf[i] = '#'
	}
	for i, want := range []string{"1396000115.1", "internal", "203", "0821234567", "Reception", "SIP/203-1"} {
		for row := range int32(2) {
			got := st.record(row)
			if v := []string{got.UniqueID, string(got.CallType), got.Extension, got.DialledNumber,
				got.FriendlyName, got.Channel}[i]; v != want {
				t.Fatalf("row %d field %d is %q after the buffer changed, want %q", row, i, v, want)
			}
		}
	}
}

// referenceLess is the order the table promises, written the slow, obvious way over whole records: digits-only
// strings first by value, then strings byte by byte; descending reverses that; ties keep load order.
func referenceCompare(c Column, a, b *cdr.Record) int {
	str := func(x, y string) int {
		nx, ny := numericKey(x), numericKey(y)
		if r := cmp.Compare(nx, ny); r != 0 {
			return r
		}
		return strings.Compare(x, y)
	}
	switch c {
	case ColStart:
		// Unknown first; a time beyond what the table can order (the year 2262) counts as the last it can.
		at, bt := a.Start, b.Start
		limit := time.Unix(0, math.MaxInt64)
		if at.After(limit) {
			at = limit
		}
		if bt.After(limit) {
			bt = limit
		}
		switch {
		case a.Start.IsZero() || b.Start.IsZero():
			return cmp.Compare(btoi(!a.Start.IsZero()), btoi(!b.Start.IsZero()))
		}
		return at.Compare(bt)
	case ColType:
		return str(string(a.CallType), string(b.CallType))
	case ColExtension:
		return str(a.Extension, b.Extension)
	case ColOther:
		return str(a.OtherParty(), b.OtherParty())
	case ColDisposition:
		return str(string(a.Disposition), string(b.Disposition))
	case ColDuration:
		return cmp.Compare(a.DurationS, b.DurationS)
	case ColBillable:
		return cmp.Compare(a.BillableS, b.BillableS)
	case ColRecording:
		return cmp.Compare(a.RecordingSize, b.RecordingSize)
	}
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tricky are values that find the edges of the sort keys: shared prefixes of seven and eight bytes, leading
// zeros, digits too long for a number, bytes above 0x7f and a NUL.
var tricky = []string{"", "0", "00", "082", "0082", "82", "abcdefg", "abcdefgh", "abcdefgha", "abcdefghb",
	"abcdefgZ", "abcdefgAAAA", "abcdefg\x00", "ab", "ab\x00", "Zoë", "Zoe", "1234567890123456789", "123456789012345678",
	`"Smith, John" <2001>`, `"Smith, Joan" <2002>`, "+27821234567", "anonymous", "anonymous caller"}

func randomRecords(rng *rand.Rand, n int) []cdr.Record {
	recs := make([]cdr.Record, n)
	zones := []*time.Location{time.UTC, cdr.OffsetZone(7200), cdr.OffsetZone(-18000)}
	for i := range recs {
		pick := func() string { return tricky[rng.IntN(len(tricky))] }
		recs[i] = cdr.Record{
			UniqueID:      strings.Repeat("1", rng.IntN(3)) + "." + pick(),
			CallType:      cdr.CallType(pick()),
			Extension:     pick(),
			DialledNumber: pick(),
			CallerID:      pick(),
			Disposition:   cdr.Disposition(pick()),
			DurationS:     rng.IntN(50) - 1,
			BillableS:     rng.IntN(50) - 1,
			RecordingSize: int64(rng.IntN(5) - 1),
		}
		if rng.IntN(10) > 0 {
			recs[i].Start = base.Add(time.Duration(rng.IntN(1000)) * time.Second).In(zones[rng.IntN(len(zones))])
		}
		switch rng.IntN(40) {
		case 0:
			recs[i].Start = time.Date(2600, 1, 1, 0, 0, rng.IntN(100), 0, time.UTC) // kept whole
		case 1:
			recs[i].CallerID = strings.Repeat("9", textMax+rng.IntN(3)) // kept whole
		}
	}
	return recs
}

// TestSortMatchesReference sorts random rows by every column both ways, all at once and streamed in batches,
// and checks the result against the reference order.
func TestSortMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Enough rows that the parallel counting and the radix passes run, not only the small-input paths.
	recs := randomRecords(rng, 40_000)
	for c := range numColumns {
		for _, desc := range []bool{false, true} {
			want := make([]int, len(recs))
			for i := range want {
				want[i] = i
			}
			slices.SortStableFunc(want, func(a, b int) int {
				r := referenceCompare(c, &recs[a], &recs[b])
				if desc {
					r = -r
				}
				return r
			})
			whole := newTable(100, 10)
			whole.Append(recs)
			whole.SetSort(c, desc)
			streamed := newTable(100, 10)
			streamed.SetSort(c, desc)
			for lo := 0; lo < len(recs); lo += 3001 {
				streamed.Append(recs[lo:min(lo+3001, len(recs))])
			}
			for name, m := range map[string]*Model{"sorted": whole, "streamed": streamed} {
				for p, i := range m.view {
					if int(i) != want[p] {
						t.Fatalf("%s by %v desc=%v: position %d holds row %d (%+v), want row %d (%+v)", name, c, desc,
							p, i, recs[i], want[p], recs[want[p]])
					}
				}
			}
		}
	}
}

// TestRowsReadWhileAppending reads a handed-out Rows on another goroutine while more batches arrive, as an
// export does while a fetch streams; run with -race.
func TestRowsReadWhileAppending(t *testing.T) {
	m := newTable(100, 10)
	m.Append(makeRecordsFrom(0, 5000))
	rows := m.Rows()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 3 {
			for i := range rows.Len() {
				if r := rows.At(i); r.UniqueID == "" {
					t.Errorf("row %d lost its ID", i)
					return
				}
			}
		}
	})
	for lo := 5000; lo < 41_000; lo += 2000 {
		m.Append(makeRecordsFrom(lo, 2000))
	}
	wg.Wait()
	if rows.Len() != 5000 || m.Shown() != 41_000 {
		t.Fatalf("snapshot has %d rows, table %d", rows.Len(), m.Shown())
	}
}
