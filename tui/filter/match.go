package filter

import (
	"strings"

	"github.com/callscope/callscope/client/cdr"
)

// Compiled is a State ready to test calls, with the user names and the dialling rules it was compiled with.
//
// Match tests a record. A table that keeps its calls in a compact form, where the words that repeat from call
// to call (type, extension, disposition, name) are stored once, tests them in two steps instead and gets the
// same answer: Kind once per distinct set of those words, then Row for each call with its own fields, only when
// the Kind has not already decided. Match is those two steps, so the two ways cannot disagree.
//
// A Compiled reads only what it is given and allocates nothing, so it can run on every core at once.
type Compiled struct {
	// extFilter is set when extensions were chosen; exts is them without blanks (none left matches nothing,
	// as cdr.Record.InvolvesExtension says of a blank extension).
	extFilter bool
	exts      []string
	extLens   uint64 // bit n: an extension is n bytes long (bit 63: 63 or more)

	types, disps uint8
	minDur       int

	q        string // lower case; "" when there is no search
	contains func(s, q string) bool
	names    map[string]string
	number   []byte // the search as a phone number, in national form
	isNumber bool
	d        Dialling
}

// Compile readies the filter; nil when nothing is filtered. names maps extensions to user names so the search
// finds a call by the name of its extension's user; d says how the PBX's numbers are written, so a search that
// is a phone number finds it whatever its spacing or prefix (+27, 0).
func (s State) Compile(names map[string]string, d Dialling) *Compiled {
	if s.IsZero() {
		return nil
	}
	raw := strings.TrimSpace(s.Search)
	c := &Compiled{
		extFilter: len(s.Extensions) > 0,
		types:     s.Types, disps: s.Dispositions, minDur: s.MinDuration,
		q:     strings.ToLower(raw),
		names: names, d: d,
	}
	for _, e := range s.Extensions {
		if e = strings.TrimSpace(e); e != "" {
			c.exts = append(c.exts, e)
			c.extLens |= 1 << min(len(e), 63)
		}
	}
	c.number, c.isNumber = phoneQuery(c.q, d)
	switch {
	case !isASCII(raw):
		// Compared as typed, by case folding: lower-casing is not folding (ς and σ are one letter, and İ
		// lower-cases to an ASCII i that İ in a name would not match).
		c.q, c.contains = raw, containsFoldUnicode
	case strings.IndexFunc(c.q, isLetter) < 0:
		// Digits and punctuation: nothing to fold, and the standard library's search is many times faster.
		c.contains = strings.Contains
	default:
		c.contains = containsFold
	}
	return c
}

// Kind is what the words that repeat from call to call decide about a call (Compiled.Kind); Row decides the rest.
type Kind uint8

const (
	kindRejects   Kind = 1 << iota // the type, disposition or extension already rule the call out
	kindExtension                  // the extension filter is met (or there is none)
	kindPeer                       // the extension filter may still be met by the dialled number (an internal call's destination)
	kindSearch                     // the search is met (or there is none)
)

// Rejects reports whether every call of this kind is filtered out, whatever its other fields.
func (k Kind) Rejects() bool { return k&kindRejects != 0 }

// Accepts reports whether every call of kind k passes, whatever its other fields.
func (c *Compiled) Accepts(k Kind) bool {
	return k&(kindRejects|kindExtension|kindSearch) == kindExtension|kindSearch && c.minDur <= 0
}

// ReadsText reports whether Row reads any text of a call of kind k whose dialled number is dialledLen bytes
// long: to compare the dialled number with the extensions, or to search. A table can then fetch the text of
// the calls that need it ahead of testing them.
func (c *Compiled) ReadsText(k Kind, dialledLen int) bool {
	switch {
	case k&kindRejects != 0:
		return false
	case k&kindExtension == 0:
		// Only a dialled number as long as an extension is compared; the search runs only if it is one.
		return c.extLens&(1<<min(dialledLen, 63)) != 0
	}
	return k&kindSearch == 0
}

// Kind decides what a call's repeating words decide: its type, extension (as the caller, or an inbound call's
// answering extension), disposition and friendly name.
func (c *Compiled) Kind(callType cdr.CallType, extension string, disp cdr.Disposition, friendlyName string) Kind {
	if c.types != 0 && c.types&typeBit(callType) == 0 || c.disps != 0 && c.disps&dispBit(disp) == 0 {
		return kindRejects
	}
	var k Kind
	switch {
	case !c.extFilter || c.hasExtension(extension):
		k |= kindExtension
	case callType != cdr.CallInbound && callType != cdr.CallOutbound:
		// cdr.Record.PeerExtension: the dialled number of a call that stays inside the PBX.
		k |= kindPeer
	default:
		return kindRejects
	}
	if c.q == "" || c.contains(extension, c.q) || c.contains(friendlyName, c.q) ||
		c.names != nil && c.contains(c.names[extension], c.q) {
		k |= kindSearch
	}
	return k
}

// Row decides a call of kind k (not Rejects) by the fields of its own.
func (c *Compiled) Row(k Kind, durationS int, dialled, callerID, uniqueID, account string) bool {
	if k&kindRejects != 0 || c.minDur > 0 && durationS < c.minDur {
		return false
	}
	// A dialled number equal to the call's own extension is no peer (PeerExtension), but then the extension
	// itself would have met the filter already: only a different one gets here.
	if k&kindExtension == 0 && !(k&kindPeer != 0 && c.hasExtension(dialled)) {
		return false
	}
	if k&kindSearch != 0 {
		return true
	}
	q := c.q
	return c.contains(dialled, q) || c.contains(callerID, q) || c.contains(uniqueID, q) || c.contains(account, q) ||
		c.isNumber && (containsNumber(dialled, c.number, c.d) || containsNumber(callerID, c.number, c.d))
}

// Match reports whether the record passes the filter.
func (c *Compiled) Match(r *cdr.Record) bool {
	k := c.Kind(r.CallType, r.Extension, r.Disposition, r.FriendlyName)
	return c.Row(k, r.DurationS, r.DialledNumber, r.CallerID, r.UniqueID, r.AccountCode)
}

func (c *Compiled) hasExtension(e string) bool {
	for _, x := range c.exts {
		if x == e {
			return true
		}
	}
	return false
}

func isLetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }
