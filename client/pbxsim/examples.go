package pbxsim

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callscope/callscope/audio/gsm"
	"github.com/callscope/callscope/client/cdr"
)

// speechGSM is a few seconds of raw GSM 06.10 speech (testdata/gsm/speech.gsm, made by testdata/gsm/gen.sh
// with espeak-ng and sox). The spec's example calls are recorded in GSM, as a Com.X usually records, and an
// installed binary has no testdata to take it from.
//
//go:embed speech.gsm
var speechGSM []byte

// specExample is one call the Com.X specification shows. The spec gives IDs, times, extensions and file
// names; the rest (the other party of the 2014 calls, names, channels) is filled in the same style.
type specExample struct {
	id, start         string // start is the index's wall clock, YYYY/MM/DD/hh:mm:ss
	typ               cdr.CallType
	ext, name         string
	dialled, callerID string
	dur, bill         int
	file              string // recording file name; its extension says the format
	channel, dest     string
}

var specExampleCalls = []specExample{
	{id: "1362123180.67", start: "2013/03/01/09:33:00", typ: cdr.CallInbound, ext: "8266", name: "Front Desk",
		dur: 221, bill: 216, file: "g8266-20130301-093300-1362123180.67.gsm",
		channel: "SIP/telkom-trunk-00000043", dest: "SIP/8266-00000044"},
	{id: "1362125482.87", start: "2013/03/01/10:11:31", typ: cdr.CallOutbound, ext: "8264", name: "Thandi Mokoena",
		dialled: "0215551111", dur: 60, bill: 53, file: "OUT8264-20130301-101131-1362125482.87.gsm",
		channel: "SIP/8264-00000057", dest: "SIP/telkom-trunk-00000058"},
	{id: "1392723066.6", start: "2014/02/18/13:31:06", typ: cdr.CallInbound, ext: "8266", name: "Front Desk",
		callerID: `"Smith, John" <0215551111>`, dur: 95, bill: 88, file: "g8266-20140218-133106-1392723066.6.wav",
		channel: "SIP/telkom-trunk-00000006", dest: "SIP/8266-00000007"},
	{id: "1396000115.1", start: "2014/03/28/11:48:35", typ: cdr.CallOutbound, ext: "8264", name: "Thandi Mokoena",
		dialled: "0117824400", dur: 47, bill: 41, file: "OUT8264-20140328-114835-1396000115.1.gsm",
		channel: "SIP/8264-00000001", dest: "SIP/telkom-trunk-00000002"},
}

// specExamples builds the spec's example calls in zone, with their recordings: as long as the billable time,
// GSM or A-law WAV as the file name says.
func specExamples(zone *time.Location) ([]call, []recording, []cdr.User) {
	calls := make([]call, 0, len(specExampleCalls))
	recs := make([]recording, 0, len(specExampleCalls))
	var users []cdr.User
	for i, e := range specExampleCalls {
		wall, err := time.ParseInLocation("2006/01/02/15:04:05", e.start, time.UTC)
		if err != nil {
			panic(fmt.Sprintf("pbxsim: spec example %s: %v", e.id, err)) // a typo in the table above
		}
		epoch, _ := strconv.ParseInt(e.id[:strings.IndexByte(e.id, '.')], 10, 64)
		y, mo, d := wall.Date()
		h, mi, s := wall.Clock()
		r := cdr.Record{
			UniqueID: e.id, Start: time.Date(y, mo, d, h, mi, s, 0, zone), Epoch: epoch,
			CallType: e.typ, RawCallType: rawType(e.typ), Extension: e.ext, DialledNumber: e.dialled,
			CallerID: e.callerID, Disposition: cdr.DispAnswered, RawDisposition: "CALL_ANSWERED",
			DurationS: e.dur, BillableS: e.bill, Recording: e.file,
			Extended: true, FriendlyName: e.name, Channel: e.channel, DestChannel: e.dest,
		}
		var data []byte
		if strings.HasSuffix(e.file, ".wav") {
			data = alawWAV(repeatPCM(decodeSpeech(), e.bill*8000))
		} else {
			data = repeatGSM(e.bill)
		}
		r.RecordingSize = int64(len(data))
		recs = append(recs, recording{name: e.file, ext: e.file[strings.LastIndexByte(e.file, '.'):], data: data})
		calls = append(calls, call{rec: r, wall: wall.Unix(), end: wall.Unix() + int64(e.dur), ring: e.dur - e.bill, pool: i})
		if !slices.ContainsFunc(users, func(u cdr.User) bool { return u.Extension == e.ext }) {
			users = append(users, cdr.User{Extension: e.ext, Name: e.name, PIN: cdr.Secret(fmt.Sprintf("%04d", 1000+len(users)*1111))})
		}
	}
	return calls, recs, users
}

// addFixed adds given calls to the generator: those after the end of the data (endWall) are left out, as a
// PBX has no calls from its future, and the span grows back to the earliest.
func (g *generator) addFixed(calls []call, recs []recording, users []cdr.User, endWall int64) {
	if g.fixed == nil {
		g.fixed = map[int64][]call{}
	}
	last := civilDay(endWall)
	for _, c := range calls {
		day := civilDay(c.wall)
		if day > last || (g.cutoff != 0 && c.wall > g.cutoff) {
			continue
		}
		c.pool += len(g.pool) + len(g.fixedRecs)
		g.fixed[day] = append(g.fixed[day], c)
		g.first = min(g.first, day)
	}
	g.fixedRecs = append(g.fixedRecs, recs...)
	g.fixedUser = append(g.fixedUser, users...)
}

// repeatGSM is speechGSM repeated (whole frames) to last about seconds.
func repeatGSM(seconds int) []byte {
	frames := max(1, seconds*8000/gsm.FrameSamples)
	out := make([]byte, 0, frames*gsm.FrameSize)
	for len(out) < cap(out) {
		n := min(len(speechGSM)/gsm.FrameSize*gsm.FrameSize, cap(out)-len(out))
		out = append(out, speechGSM[:n]...)
	}
	return out
}

// decodeSpeech is speechGSM as 16-bit samples.
func decodeSpeech() []int16 {
	var d gsm.Decoder
	out := make([]int16, 0, len(speechGSM)/gsm.FrameSize*gsm.FrameSamples)
	var frame [gsm.FrameSamples]int16
	for b := speechGSM; len(b) >= gsm.FrameSize; b = b[gsm.FrameSize:] {
		if d.Decode(b[:gsm.FrameSize], frame[:]) == nil {
			out = append(out, frame[:]...)
		}
	}
	return out
}

// repeatPCM is pcm repeated to n samples.
func repeatPCM(pcm []int16, n int) []int16 {
	out := make([]int16, 0, n)
	for len(out) < n && len(pcm) > 0 {
		out = append(out, pcm[:min(len(pcm), n-len(out))]...)
	}
	return out
}
