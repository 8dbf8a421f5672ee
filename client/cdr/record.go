// Package cdr holds the call detail record model that every PBX client maps into, the Source interface the UI
// and the command line use without knowing which PBX is behind it, and the one CSV/JSON representation of a
// record that every export writes.
package cdr

import (
	"strings"
	"time"
)

// Unknown marks a numeric field the PBX did not report (Difuse sends no recording size, for example).
const Unknown = -1

// CallType is the direction of a call as a lower-case word. The five documented types have constants; a type the
// PBX sends that we do not know is kept as the PBX's own word in lower case, never dropped.
type CallType string

const (
	CallUnknown  CallType = "unknown"
	CallInbound  CallType = "inbound"
	CallOutbound CallType = "outbound"
	CallInternal CallType = "internal"
	CallOther    CallType = "other"
)

// Disposition is how a call ended, as a lower-case word; like CallType, an unknown word is kept as-is.
type Disposition string

const (
	DispUnknown  Disposition = "unknown"
	DispAnswered Disposition = "answered"
	DispNoAnswer Disposition = "no answer"
	DispBusy     Disposition = "busy"
	DispFailed   Disposition = "failed"
)

// Record is one call. Start is the PBX's wall-clock start time placed in the PBX's zone (see Zone); Epoch, when
// the PBX gave one (an Asterisk unique ID's integer part, Difuse's timestamp), is the channel's creation time in
// Unix seconds and is what zone inference votes with.
type Record struct {
	UniqueID       string
	Start          time.Time
	Epoch          int64 // 0 when unknown
	CallType       CallType
	RawCallType    string // as the PBX sent it, e.g. CALLTYPE_INBOUND
	Extension      string
	DialledNumber  string
	CallerID       string
	Disposition    Disposition
	RawDisposition string // as the PBX sent it, e.g. CALL_ANSWERED or NO ANSWER
	DurationS      int    // Unknown when not reported
	BillableS      int    // Unknown when not reported
	RecordingSize  int64  // bytes; 0 = no recording; Unknown = not reported
	Recording      string // file name (Com.X) or URL (Difuse); empty = none

	// Extended fields (Com.X `&extended`, or what a PBX otherwise reports).
	Extended     bool // the PBX sent the extended fields for this row
	FriendlyName string
	AccountCode  string
	Channel      string
	DestChannel  string
}

// HasRecording reports whether the PBX says the call was recorded.
func (r *Record) HasRecording() bool {
	return r.Recording != "" && r.RecordingSize != 0
}

// Ref names the call for people, as a status line or a ticket quotes it: its unique ID, or "at" its start time
// when the PBX gave it none ("1396000115.1", "at 2014-03-28 11:48:35"), so "call " + Ref() reads either way.
func (r *Record) Ref() string {
	if r.UniqueID != "" {
		return r.UniqueID
	}
	return "at " + r.Start.Format("2006-01-02 15:04:05")
}

// PeerExtension is the extension at the other end of a call that stays inside the PBX: the one an internal
// call dialled, or that a call routed through the dialplan (a ring group, a queue) or of unknown direction
// reached. It is "" for inbound and outbound calls, whose far end is outside (an inbound call's answering
// extension is Extension itself), and when it is Extension again.
func (r *Record) PeerExtension() string {
	if r.CallType == CallInbound || r.CallType == CallOutbound || r.DialledNumber == r.Extension {
		return ""
	}
	return r.DialledNumber
}

// InvolvesExtension is the one meaning of "the calls of extension ext" (callscope calls --ext, the app's
// extension filter, the archive, both PBX clients): ext is the call's source or its destination, that is
// Extension (the caller, or an inbound call's answering extension) or PeerExtension (the dialled or reached
// extension).
func (r *Record) InvolvesExtension(ext string) bool {
	ext = strings.TrimSpace(ext)
	return ext != "" && (r.Extension == ext || r.PeerExtension() == ext)
}

// OtherParty is the number at the far end: the caller ID for inbound calls, the dialled number otherwise, with
// whichever is present as the fallback.
func (r *Record) OtherParty() string {
	if r.CallType == CallInbound && r.CallerID != "" {
		return r.CallerID
	}
	if r.DialledNumber != "" {
		return r.DialledNumber
	}
	return r.CallerID
}

// ParseCallType maps a PBX's call type word (Com.X CALLTYPE_*, or a plain word) to a CallType.
func ParseCallType(raw string) CallType {
	w := normWord(raw, "calltype_", "calltype ")
	switch w {
	case "":
		return ""
	case "inbound", "incoming", "in":
		return CallInbound
	case "outbound", "outgoing", "out":
		return CallOutbound
	case "internal", "local":
		return CallInternal
	case "other":
		return CallOther
	case "unknown":
		return CallUnknown
	}
	return CallType(w)
}

// ParseDisposition maps Com.X CALL_* and Asterisk dispositions (ANSWERED, NO ANSWER, BUSY, FAILED) to a
// Disposition.
func ParseDisposition(raw string) Disposition {
	w := normWord(raw, "call_", "call ")
	switch w {
	case "":
		return ""
	case "answered", "answer":
		return DispAnswered
	case "noanswer", "no answer":
		return DispNoAnswer
	case "busy":
		return DispBusy
	case "failed", "fail":
		return DispFailed
	case "unknown":
		return DispUnknown
	}
	return Disposition(w)
}

// normWord lower-cases a PBX word, strips one of the given prefixes and turns underscores into spaces.
func normWord(raw string, prefixes ...string) string {
	w := strings.ToLower(strings.TrimSpace(raw))
	for _, p := range prefixes {
		if strings.HasPrefix(w, p) && len(w) > len(p) {
			w = w[len(p):]
			break
		}
	}
	return strings.ReplaceAll(w, "_", " ")
}
