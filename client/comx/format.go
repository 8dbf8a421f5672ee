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
func AppendLine(b []byte, r *cdr.Record, extended bool) []byte {
	b = append(b, r.UniqueID...)
	b = append(b, ',')
	b = cdr.WallClock(r.Start).AppendFormat(b, TimeLayout)
	b = append(b, ',')
	b = append(b, rawOr(r.RawCallType, "CALLTYPE_", string(r.CallType))...)
	b = append(b, ',')
	b = append(b, r.Extension...)
	b = append(b, ',')
	b = append(b, r.DialledNumber...)
	b = append(b, ',')
	b = append(b, r.CallerID...)
	b = append(b, ',')
	b = append(b, rawOr(r.RawDisposition, "CALL_", strings.ReplaceAll(string(r.Disposition), " ", ""))...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(max(r.DurationS, 0)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(max(r.BillableS, 0)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, max(r.RecordingSize, 0), 10)
	b = append(b, ',')
	b = append(b, r.Recording...)
	if extended {
		for _, f := range [...]string{r.FriendlyName, r.AccountCode, r.Channel, r.DestChannel} {
			b = append(b, ',')
			b = append(b, f...)
		}
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
