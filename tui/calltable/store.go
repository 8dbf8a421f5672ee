package calltable

import (
	"math"
	"strings"
	"time"
	"unsafe"

	"github.com/callscope/callscope/client/cdr"
)

// The loaded records are kept in a compact form rather than as []cdr.Record: a cdr.Record is 272 bytes of
// headers before its text, and records parsed from a Com.X index hold substrings of the parser's 64 KiB read
// buffers, so keeping them pins every buffer's raw text. A row here is 48 bytes without pointers (the collector
// never scans it). The words that repeat on every row (types, dispositions, extensions, names) and the zone are
// stored once, as the row's kind: a year of a busy PBX has a few hundred kinds, and the filter decides most of
// its question once per kind rather than once per row. The other text is copied into shared blocks. A million
// calls take about a quarter of the memory they did as records.
//
// The store only grows (Reset starts a new one), in fixed-size chunks that are never moved, so a snapshot taken
// for a Cmd's goroutine (an export, the overview) reads rows while later batches are appended.

const (
	chunkBits = 12
	chunkLen  = 1 << chunkBits // rows per chunk

	blockBits = 18
	blockLen  = 1 << blockBits // bytes per text block
	// textMax is the most text one row may keep in a block; a longer row is kept as a whole cdr.Record.
	textMax = 8 << 10
)

// The text fields, copied into blocks back to back.
const (
	tUniqueID = iota
	tDialled
	tCallerID
	tRecording
	tAccount
	tChannel
	tDestChannel
	numText
)

// The repeating words, interned.
const (
	wCallType = iota
	wRawCallType
	wExtension
	wDisposition
	wRawDisposition
	wFriendlyName
	numWords
)

const (
	flagExtended = 1 << iota
	flagWhole    // the record did not fit: text is an index into store.whole
	flagNoStart  // zero start time
	flagNoEpoch  // zero epoch
)

// row is one record in compact form, 48 bytes. A record whose numbers do not fit these fields is kept whole.
type row struct {
	start int64 // Unix nanoseconds
	epoch int32 // the epoch less the start's Unix seconds (start/1e9), or less 0 without a start
	size  int32 // recording size
	dur   int32
	bill  int32
	text  uint32 // block<<blockBits | offset of the row's text
	kind  uint32 // index into kinds
	lens  [numText]uint16
	flags uint8
}

// kind is what a row shares with many others: its interned words and its zone.
type kind struct {
	words [numWords]uint32
	loc   uint16 // index into locs
}

type chunk [chunkLen]row

type block [blockLen]byte

// snapshot is a read-only view of the first n rows. Every slice in it only ever grows by appending past what
// the snapshot can see, so it may be read on any goroutine while the table appends.
type snapshot struct {
	n      int
	chunks []*chunk
	blocks []*block
	words  []string
	kinds  []kind
	locs   []*time.Location
	whole  []*cdr.Record
}

// store owns the rows: the snapshot of everything plus the writer's state.
type store struct {
	snapshot
	used   int               // bytes used in the last block
	ids    map[string]uint32 // word → index in words
	kindID map[kind]uint32
	locID  map[*time.Location]uint16
}

func (s *store) len() int { return s.n }

// row is the compact row i.
func (s *snapshot) row(i int32) *row { return &s.chunks[i>>chunkBits][i&(chunkLen-1)] }

// load fills r with record i. Its strings share the store's memory; they stay valid for as long as they are
// referenced.
func (s *snapshot) load(i int32, r *cdr.Record) {
	w := s.row(i)
	if w.flags&flagWhole != 0 {
		*r = *s.whole[w.text]
		return
	}
	// Field by field into *r: building a Record value and copying it over was most of the cost.
	blk := s.blocks[w.text>>blockBits]
	off := int(w.text & (blockLen - 1))
	r.UniqueID, off = cut(blk, off, w.lens[tUniqueID])
	r.DialledNumber, off = cut(blk, off, w.lens[tDialled])
	r.CallerID, off = cut(blk, off, w.lens[tCallerID])
	r.Recording, off = cut(blk, off, w.lens[tRecording])
	r.AccountCode, off = cut(blk, off, w.lens[tAccount])
	r.Channel, off = cut(blk, off, w.lens[tChannel])
	r.DestChannel, _ = cut(blk, off, w.lens[tDestChannel])
	k := &s.kinds[w.kind]
	if w.flags&flagNoStart == 0 {
		r.Start = time.Unix(0, w.start).In(s.locs[k.loc])
	} else {
		r.Start = time.Time{}
	}
	r.Epoch = w.epochSeconds()
	words := s.words
	r.CallType = cdr.CallType(words[k.words[wCallType]])
	r.RawCallType = words[k.words[wRawCallType]]
	r.Extension = words[k.words[wExtension]]
	r.Disposition = cdr.Disposition(words[k.words[wDisposition]])
	r.RawDisposition = words[k.words[wRawDisposition]]
	r.FriendlyName = words[k.words[wFriendlyName]]
	r.DurationS = int(w.dur)
	r.BillableS = int(w.bill)
	r.RecordingSize = int64(w.size)
	r.Extended = w.flags&flagExtended != 0
}

// epochBase is what a row's epoch is stored relative to: its start's Unix seconds, 0 without a start.
func (w *row) epochBase() int64 {
	if w.flags&flagNoStart != 0 {
		return 0
	}
	return w.start / 1e9
}

// epochSeconds is the row's epoch in Unix seconds.
func (w *row) epochSeconds() int64 {
	if w.flags&flagNoEpoch != 0 {
		return 0
	}
	return w.epochBase() + int64(w.epoch)
}

// cut is the n bytes of blk at off as a string, and the offset after them.
func cut(blk *block, off int, n uint16) (string, int) {
	if n == 0 {
		return "", off
	}
	return unsafe.String(&blk[off], int(n)), off + int(n)
}

// record is record i as a value.
func (s *snapshot) record(i int32) cdr.Record {
	var r cdr.Record
	s.load(i, &r)
	return r
}

// text is one text field of row i without building the whole record (sort keys, search).
func (s *snapshot) text(i int32, f int) string {
	w := s.row(i)
	if w.flags&flagWhole != 0 {
		r := s.whole[w.text]
		return [numText]string{
			tUniqueID: r.UniqueID, tDialled: r.DialledNumber, tCallerID: r.CallerID, tRecording: r.Recording,
			tAccount: r.AccountCode, tChannel: r.Channel, tDestChannel: r.DestChannel,
		}[f]
	}
	n := int(w.lens[f])
	if n == 0 {
		return ""
	}
	off := int(w.text & (blockLen - 1))
	for _, l := range w.lens[:f] {
		off += int(l)
	}
	return unsafe.String(&s.blocks[w.text>>blockBits][off], n)
}

// word is one interned field of row i.
func (s *snapshot) word(i int32, f int) string { return s.words[s.kinds[s.row(i).kind].words[f]] }

// The numeric fields.
const (
	nDuration = iota
	nBillable
	nRecordingSize
)

// number is one numeric field of row i.
func (s *snapshot) number(i int32, f int) int64 {
	w := s.row(i)
	if w.flags&flagWhole != 0 {
		r := s.whole[w.text]
		switch f {
		case nDuration:
			return int64(r.DurationS)
		case nBillable:
			return int64(r.BillableS)
		}
		return r.RecordingSize
	}
	switch f {
	case nDuration:
		return int64(w.dur)
	case nBillable:
		return int64(w.bill)
	}
	return int64(w.size)
}

// key is markKey of row i, without building the record when the call has a unique ID.
func (s *snapshot) key(i int32) string {
	if id := s.text(i, tUniqueID); id != "" {
		return id
	}
	r := s.record(i)
	return markKey(&r)
}

// otherParty is cdr.Record.OtherParty for row i.
func (s *snapshot) otherParty(i int32) string {
	caller := s.text(i, tCallerID)
	if caller != "" && s.word(i, wCallType) == string(cdr.CallInbound) {
		return caller
	}
	if d := s.text(i, tDialled); d != "" {
		return d
	}
	return caller
}

// The times Unix nanoseconds can hold; a start outside them (a PBX clock gone wrong) sorts as the nearest end.
var minNanoTime, maxNanoTime = time.Unix(0, math.MinInt64+1), time.Unix(0, math.MaxInt64)

// startNanos is row i's start in Unix nanoseconds, math.MinInt64 when unknown.
func (s *snapshot) startNanos(i int32) int64 {
	w := s.row(i)
	if w.flags&flagWhole != 0 {
		r := s.whole[w.text]
		switch {
		case r.Start.IsZero():
			return math.MinInt64
		case r.Start.Before(minNanoTime):
			return math.MinInt64 + 1 // sorts as early as a time can
		case r.Start.After(maxNanoTime):
			return math.MaxInt64
		}
		return r.Start.UnixNano()
	}
	if w.flags&flagNoStart != 0 {
		return math.MinInt64
	}
	return w.start
}

// add appends r.
func (s *store) add(r *cdr.Record) {
	if s.n == len(s.chunks)*chunkLen {
		s.chunks = append(s.chunks, new(chunk))
	}
	w := s.row(int32(s.n))
	s.n++
	var loc uint16
	if !s.pack(r, w, &loc) {
		*w = row{flags: flagWhole, text: uint32(len(s.whole))}
		loc = 0 // a whole record keeps its own zone
		c := *r
		detach(&c)
		s.whole = append(s.whole, &c)
	}
	// Whole records get their kind too: word columns sort, filter and render by it alike.
	w.kind = s.kindOf(kind{loc: loc, words: [numWords]uint32{
		wCallType: s.intern(string(r.CallType)), wRawCallType: s.intern(r.RawCallType),
		wExtension: s.intern(r.Extension), wDisposition: s.intern(string(r.Disposition)),
		wRawDisposition: s.intern(r.RawDisposition), wFriendlyName: s.intern(r.FriendlyName),
	}})
}

// kindOf is the index of k, added on first sight.
func (s *store) kindOf(k kind) uint32 {
	if id, ok := s.kindID[k]; ok {
		return id
	}
	if s.kindID == nil {
		s.kindID = map[kind]uint32{}
	}
	id := uint32(len(s.kinds))
	s.kinds = append(s.kinds, k)
	s.kindID[k] = id
	return id
}

// pack writes r into w and its zone's index into loc, or reports that it does not fit the compact form.
func (s *store) pack(r *cdr.Record, w *row, loc *uint16) bool {
	text := [numText]string{
		tUniqueID: r.UniqueID, tDialled: r.DialledNumber, tCallerID: r.CallerID, tRecording: r.Recording,
		tAccount: r.AccountCode, tChannel: r.Channel, tDestChannel: r.DestChannel,
	}
	total := 0
	for _, t := range text {
		total += len(t)
	}
	if total > textMax || r.DurationS != int(int32(r.DurationS)) || r.BillableS != int(int32(r.BillableS)) ||
		r.RecordingSize != int64(int32(r.RecordingSize)) {
		return false
	}
	*w = row{size: int32(r.RecordingSize), dur: int32(r.DurationS), bill: int32(r.BillableS)}
	if r.Start.IsZero() {
		w.flags |= flagNoStart
	} else {
		// UnixNano is defined from 1678 to 2262; a start outside it (a PBX clock gone wrong) keeps the record whole.
		ns := r.Start.UnixNano()
		if !time.Unix(0, ns).Equal(r.Start) {
			return false
		}
		w.start = ns
		l, ok := s.locIndex(r.Start.Location())
		if !ok {
			return false
		}
		*loc = l
	}
	// The epoch is near the start (the same instant, or the start read in another zone): its distance fits.
	if r.Epoch == 0 {
		w.flags |= flagNoEpoch
	} else if d := r.Epoch - w.epochBase(); d == int64(int32(d)) {
		w.epoch = int32(d)
	} else {
		return false
	}
	if r.Extended {
		w.flags |= flagExtended
	}
	if len(s.blocks) == 0 || s.used+total > blockLen {
		s.blocks = append(s.blocks, new(block))
		s.used = 0
	}
	if len(s.blocks) > math.MaxUint32>>blockBits {
		return false
	}
	w.text = uint32(len(s.blocks)-1)<<blockBits | uint32(s.used)
	blk := s.blocks[len(s.blocks)-1]
	for f, t := range text {
		w.lens[f] = uint16(len(t))
		s.used += copy(blk[s.used:], t)
	}
	return true
}

// intern is the index of word, added on first sight. Words are copied, so a parser's buffer is not kept.
func (s *store) intern(word string) uint32 {
	if id, ok := s.ids[word]; ok {
		return id
	}
	if s.ids == nil {
		s.ids = map[string]uint32{}
	}
	word = strings.Clone(word)
	id := uint32(len(s.words))
	s.words = append(s.words, word)
	s.ids[word] = id
	return id
}

func (s *store) locIndex(loc *time.Location) (uint16, bool) {
	if id, ok := s.locID[loc]; ok {
		return id, true
	}
	if len(s.locs) > math.MaxUint16 {
		return 0, false
	}
	if s.locID == nil {
		s.locID = map[*time.Location]uint16{}
	}
	id := uint16(len(s.locs))
	s.locs = append(s.locs, loc)
	s.locID[loc] = id
	return id, true
}

// detach copies a record's strings so it no longer refers to a parser's buffer.
func detach(r *cdr.Record) {
	for _, p := range []*string{&r.UniqueID, &r.RawCallType, &r.Extension, &r.DialledNumber, &r.CallerID,
		&r.RawDisposition, &r.Recording, &r.FriendlyName, &r.AccountCode, &r.Channel, &r.DestChannel} {
		*p = strings.Clone(*p)
	}
	r.CallType = cdr.CallType(strings.Clone(string(r.CallType)))
	r.Disposition = cdr.Disposition(strings.Clone(string(r.Disposition)))
}
