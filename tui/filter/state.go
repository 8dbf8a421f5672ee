// Package filter holds the call filters (extensions, call types, dispositions, minimum duration, free text),
// the matcher the call table applies, and the two components that edit them: the filter panel (`f`) and the
// search bar (`/`).
package filter

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/tui/common"
)

// Type and disposition toggles, as bits; an empty set shows everything.
const (
	TypeInbound uint8 = 1 << iota
	TypeOutbound
	TypeInternal
	TypeOther
)

const (
	DispAnswered uint8 = 1 << iota
	DispNoAnswer
	DispBusy
	DispFailed
	DispOther
)

// State is every filter at once. The zero State shows every call.
type State struct {
	Extensions   []string
	Types        uint8
	Dispositions uint8
	MinDuration  int // seconds
	Search       string
}

// IsZero reports whether no filter is active.
func (s State) IsZero() bool {
	return len(s.Extensions) == 0 && s.Types == 0 && s.Dispositions == 0 && s.MinDuration <= 0 &&
		strings.TrimSpace(s.Search) == ""
}

func typeBit(t cdr.CallType) uint8 {
	switch t {
	case cdr.CallInbound:
		return TypeInbound
	case cdr.CallOutbound:
		return TypeOutbound
	case cdr.CallInternal:
		return TypeInternal
	}
	return TypeOther
}

func dispBit(d cdr.Disposition) uint8 {
	switch d {
	case cdr.DispAnswered:
		return DispAnswered
	case cdr.DispNoAnswer:
		return DispNoAnswer
	case cdr.DispBusy:
		return DispBusy
	case cdr.DispFailed:
		return DispFailed
	}
	return DispOther
}

// MatcherWith returns the predicate for the call table, or nil when nothing is filtered: Compile's Match. names
// maps extensions to user names so the search finds a call by the name of its extension's user; d says how the
// PBX's numbers are written, so a search that is a phone number finds it whatever its spacing or prefix (+27,
// 0). The predicate reads only the record and allocates nothing, so it can run on every core at once.
func (s State) MatcherWith(names map[string]string, d Dialling) func(*cdr.Record) bool {
	c := s.Compile(names, d)
	if c == nil {
		return nil
	}
	return c.Match
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// containsFold reports whether s contains the lower-case ASCII needle q, ignoring ASCII case, without
// allocating.
func containsFold(s, q string) bool {
	n := len(q)
	if n == 0 {
		return true
	}
	first := q[0]
	for i := 0; i+n <= len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != first {
			continue
		}
		j := 1
		for ; j < n; j++ {
			d := s[i+j]
			if d >= 'A' && d <= 'Z' {
				d += 'a' - 'A'
			}
			if d != q[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

// containsFoldUnicode reports whether s contains q, comparing letters as strings.EqualFold does (Unicode simple
// case folding), without allocating. Lower-casing both sides is not enough: Greek's final ς and σ are one
// letter, and ΑΛΈΞΑΝΔΡΟΣ lower-cases to …ροσ, not …ρος.
func containsFoldUnicode(s, q string) bool {
	if isASCII(s) && len(s) < len(q) {
		return false
	}
	for i := 0; i < len(s); {
		if hasPrefixFold(s[i:], q) {
			return true
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	return false
}

// hasPrefixFold reports whether s starts with prefix under simple case folding.
func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		a, n := utf8.DecodeRuneInString(s)
		b, m := utf8.DecodeRuneInString(prefix)
		if a != b && !sameFold(a, b) {
			return false
		}
		s, prefix = s[n:], prefix[m:]
	}
	return true
}

// sameFold reports whether a and b are the same letter in another case (one orbit of unicode.SimpleFold).
func sameFold(a, b rune) bool {
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// String describes the active filters for the status bar: `ext 201,202 · in,out · answered · ≥1:00 · "smith"`.
func (s State) String() string {
	var parts []string
	if len(s.Extensions) > 0 {
		parts = append(parts, "ext "+strings.Join(s.Extensions, ","))
	}
	if s.Types != 0 {
		var w []string
		for _, t := range typeToggles {
			if s.Types&t.bit != 0 {
				w = append(w, t.short)
			}
		}
		parts = append(parts, strings.Join(w, ","))
	}
	if s.Dispositions != 0 {
		var w []string
		for _, d := range dispToggles {
			if s.Dispositions&d.bit != 0 {
				w = append(w, d.label)
			}
		}
		parts = append(parts, strings.Join(w, ","))
	}
	if s.MinDuration > 0 {
		parts = append(parts, "≥"+common.Duration(s.MinDuration))
	}
	if q := strings.TrimSpace(s.Search); q != "" {
		parts = append(parts, fmt.Sprintf("%q", q))
	}
	return strings.Join(parts, " · ")
}

type toggle struct {
	bit          uint8
	label, short string
}

var typeToggles = []toggle{
	{TypeInbound, "↓ inbound", "in"},
	{TypeOutbound, "↑ outbound", "out"},
	{TypeInternal, "↔ internal", "internal"},
	{TypeOther, "· other", "other"},
}

var dispToggles = []toggle{
	{DispAnswered, "answered", "answered"},
	{DispNoAnswer, "no answer", "no answer"},
	{DispBusy, "busy", "busy"},
	{DispFailed, "failed", "failed"},
	{DispOther, "other", "other"},
}

// ParseExtensions splits "201, 202 203" into extensions.
func ParseExtensions(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	if len(f) == 0 {
		return nil
	}
	return f
}

// maxDurationS bounds a duration read, far beyond any call, so no sum of units can overflow.
const maxDurationS = 100 * 365 * 24 * 3600

// ParseDuration reads a minimum duration: seconds ("90"), m:ss ("1:30"), or with units ("2m", "1m30s", "45s").
// It allocates only for the error: the filter panel reads it on every key.
func ParseDuration(s string) (int, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, nil
	}
	if n, ok := parseDuration(s); ok {
		return n, nil
	}
	return 0, fmt.Errorf("cannot read duration %q: use seconds (90), m:ss (1:30) or 1m30s", s)
}

func parseDuration(s string) (int, bool) {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		m, ok1 := atoi(s[:i])
		sec, ok2 := atoi(s[i+1:])
		if !ok1 || !ok2 || sec >= 60 {
			return 0, false
		}
		return m*60 + sec, true
	}
	total, num, seen := 0, -1, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if num < 0 {
				num = 0
			}
			num = num*10 + int(c-'0')
			if num > 1e7 {
				return 0, false
			}
		case num >= 0 && unitSeconds(c) > 0:
			total += num * unitSeconds(c)
			if total > maxDurationS {
				return 0, false
			}
			num, seen = -1, true
		default:
			return 0, false
		}
	}
	if num >= 0 {
		if seen {
			return 0, false // "1h30": 30 what?
		}
		total += num
	}
	return total, true
}

// unitSeconds is the length of a unit letter in seconds, 0 for any other byte.
func unitSeconds(c byte) int {
	switch c {
	case 'h':
		return 3600
	case 'm':
		return 60
	case 's':
		return 1
	}
	return 0
}

// atoi reads up to seven digits.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 7 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
