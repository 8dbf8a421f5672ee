package comx

import (
	"strconv"
	"strings"

	"github.com/callscope/callscope/client/cdr"
)

// TimeLayout is the index file's date-time form: 2013/03/01/09:33:00.
const TimeLayout = "2006/01/02/15:04:05"

// AppendLine appends r as one index line the way a Com.X writes it: the raw call type and disposition words,
// fields joined by commas with no quoting (a caller ID such as `"Smith, John" <2001>` goes out as it is, which
// is why the parser must cope with commas inside fields), 15 fields when extended, 11 otherwise. No line end.
// A number the source did not report (cdr.Unknown) is left empty rather than written as 0, which would claim
// "no recording"; a line break inside a field becomes a space, so one record stays one line.
func AppendLine(b []byte, r *cdr.Record, extended bool) []byte {
	b = appendField(b, r.UniqueID)
	b = append(b, ',')
	b = cdr.WallClock(r.Start).AppendFormat(b, TimeLayout)
	b = append(b, ',')
	b = appendField(b, rawOr(r.RawCallType, "CALLTYPE_", string(r.CallType)))
	b = append(b, ',')
	b = appendField(b, r.Extension)
	b = append(b, ',')
	b = appendField(b, r.DialledNumber)
	b = append(b, ',')
	b = appendField(b, r.CallerID)
	b = append(b, ',')
	b = appendField(b, rawOr(r.RawDisposition, "CALL_", strings.ReplaceAll(string(r.Disposition), " ", "")))
	b = append(b, ',')
	b = appendCount(b, int64(r.DurationS))
	b = append(b, ',')
	b = appendCount(b, int64(r.BillableS))
	b = append(b, ',')
	b = appendCount(b, r.RecordingSize)
	b = append(b, ',')
	b = appendField(b, r.Recording)
	if extended {
		for _, f := range [...]string{r.FriendlyName, r.AccountCode, r.Channel, r.DestChannel} {
			b = append(b, ',')
			b = appendField(b, f)
		}
	}
	return b
}

func appendCount(b []byte, v int64) []byte {
	if v < 0 {
		return b
	}
	return strconv.AppendInt(b, v, 10)
}

// appendField appends s with any CR or LF turned into a space.
func appendField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\r\n") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// rawOr returns raw when set, else the canonical word upper-cased with the Com.X prefix.
func rawOr(raw, prefix, word string) string {
	if raw != "" {
		return raw
	}
	if word == "" {
		return ""
	}
	return prefix + strings.ToUpper(strings.ReplaceAll(word, " ", "_"))
}
