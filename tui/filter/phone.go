package filter

import (
	"bytes"
	"fmt"
	"strings"
)

// Dialling is how phone numbers are written where the PBX is. With CountryCode set ("27"), the international
// forms of a national number (+27 84 657 1261, 0027846571261, 27846571261) and its national form with the trunk
// prefix 0 (084 657 1261) are the same number to the search, however the PBX or the user wrote it. Without it
// the search still ignores spaces, dashes, dots, slashes and brackets.
type Dialling struct {
	CountryCode string // digits only, no "+"; empty when not configured
}

// ParseCountryCode reads a country calling code as people write it ("27", "+27"): one to three digits.
func ParseCountryCode(s string) (string, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "+")
	if t == "" || len(t) > 3 || strings.Trim(t, "0123456789") != "" || t[0] == '0' {
		return "", fmt.Errorf("country code %q: give the country's calling code, 1 to 3 digits such as 27 or +44", s)
	}
	return t, nil
}

// maxNumberDigits bounds the digits of one number the search looks at: the longest international number has 15
// (E.164), so a run longer than this is not a phone number and only its first digits take part.
const maxNumberDigits = 24

// minPhoneDigits is how many digits a search needs before it is also read as a phone number: fewer are an
// extension or part of an ID, which the plain text search finds anyway.
const minPhoneDigits = 3

// isNumberSeparator is what people put between the digits of a phone number.
func isNumberSeparator(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/'
}

// phoneQuery reads a search as a phone number: digits with separators, perhaps a leading "+". It returns the
// number's digits in national form when the country code says how, and false when the search is not a number.
func phoneQuery(q string, d Dialling) ([]byte, bool) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, false
	}
	var buf [maxNumberDigits]byte
	n, plus := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(buf) {
				return nil, false
			}
			buf[n] = c
			n++
		case c == '+' && i == 0:
			plus = true
		case isNumberSeparator(c):
		default:
			return nil, false
		}
	}
	if n < minPhoneDigits {
		return nil, false
	}
	nat, _ := d.national(buf[:n], plus)
	return append([]byte(nil), nat...), true
}

// national rewrites digits (in place, returning a sub-slice) to the national form when they are an
// international number of the configured country: written with "+" or "00" before the country code, or long
// enough after the code to be a full number (a national number there starts with the trunk prefix 0, so it never
// starts with the country code). "+27 (0)84…" keeps its one 0. changed is false when digits are not such a
// number (and are returned as they were).
func (d Dialling) national(digits []byte, plus bool) (nat []byte, changed bool) {
	cc := d.CountryCode
	if cc == "" {
		return digits, false
	}
	rest := digits
	intl := plus
	if !plus && len(rest) > 2 && rest[0] == '0' && rest[1] == '0' {
		rest, intl = rest[2:], true
	}
	if len(rest) <= len(cc) || string(rest[:len(cc)]) != cc {
		return digits, false
	}
	if !intl && len(rest)-len(cc) < 7 {
		return digits, false // too short to be an international number: an extension or a short code
	}
	rest = rest[len(cc)-1:]
	if rest[1] == '0' {
		return rest[1:], true
	}
	rest[0] = '0'
	return rest, true
}

// containsNumber reports whether any number written in s (a run of digits and separators, perhaps after a "+":
// a caller ID like `"Vodacom" <+27 21 555 0100>` holds one) contains the digits want, as written or in national
// form. It allocates nothing, so the matcher can run it over a million rows on every core.
func containsNumber(s string, want []byte, d Dialling) bool {
	if digitsOnly(s) {
		return containsPlainNumber(s, want, d)
	}
	return containsNumberRuns(s, want, d)
}

// containsNumberRuns is containsNumber for any text: each run of digits and separators is copied out as
// digits and compared.
func containsNumberRuns(s string, want []byte, d Dialling) bool {
	var buf [maxNumberDigits]byte
	for i := 0; i < len(s); {
		c := s[i]
		if !(c >= '0' && c <= '9') && c != '+' {
			i++
			continue
		}
		plus := c == '+'
		if plus {
			i++
		}
		n := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c >= '0' && c <= '9' {
				if n < len(buf) {
					buf[n] = c
					n++
				}
				continue
			}
			if !isNumberSeparator(c) {
				break
			}
		}
		if n < len(want) {
			continue
		}
		if bytes.Contains(buf[:n], want) {
			return true
		}
		if nat, changed := d.national(buf[:n], plus); changed && bytes.Contains(nat, want) {
			return true
		}
	}
	return false
}

func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// containsPlainNumber is containsNumber for a field of digits only, the common case (0846571261, 27846571261),
// without copying: the national form of an international number is "0" + what follows the country code, so
// want is in it when it is in that tail, or when want is "0" + a prefix of the tail.
func containsPlainNumber(s string, want []byte, d Dialling) bool {
	if strings.Contains(s, string(want)) { // no allocation: the conversion is only compared
		return true
	}
	cc := d.CountryCode
	if cc == "" {
		return false
	}
	rest, intl := s, false
	if len(rest) > 2 && rest[0] == '0' && rest[1] == '0' {
		rest, intl = rest[2:], true
	}
	if !strings.HasPrefix(rest, cc) || len(rest) == len(cc) || (!intl && len(rest)-len(cc) < 7) {
		return false
	}
	tail := rest[len(cc):]
	if tail[0] == '0' {
		return strings.Contains(tail, string(want)) // "+27 (0)84…" with the brackets lost: its one 0 is kept
	}
	return strings.Contains(tail, string(want)) || (want[0] == '0' && strings.HasPrefix(tail, string(want[1:])))
}
