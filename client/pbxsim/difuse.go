package pbxsim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// difuseRow is one row of /pbx/cdr/data, fields in the order the Difuse documentation shows them.
type difuseRow struct {
	DBID                int    `json:"db_id"`
	CallID              string `json:"call_id"`
	CallerID            string `json:"caller_id"`
	Source              string `json:"source"`
	DestinationContext  string `json:"destination_context"`
	Destination         string `json:"destination"`
	InitialDestination  string `json:"initial_destination"`
	ComputedDestination string `json:"computed_destination"`
	Disposition         string `json:"disposition"`
	Timestamp           string `json:"timestamp"`
	Date                string `json:"date"`
	StartTime           string `json:"start_time"`
	AnswerTime          string `json:"answer_time"`
	EndTime             string `json:"end_time"`
	RecordingURL        string `json:"recording_url"`
}

const difuseTime = "2006-01-02 15:04:05"

// DifuseKey is the value a Difuse client sends as password or key=: the hex SHA-256 of the extension's secret.
func DifuseKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// difuseAuth accepts Basic <extension>:<hex sha256 of secret> or key=<hex sha256 of secret>. The extension
// must be the one with CDR access; the hex may be in either case.
func (s *Sim) difuseAuth(r *http.Request) bool {
	want := DifuseKey(s.o.DifuseSecret)
	if user, pass, ok := r.BasicAuth(); ok {
		return equal(user, s.o.DifuseExtension) && equal(strings.ToLower(pass), want)
	}
	q := r.URL.Query()
	if key := q.Get("key"); key != "" {
		ext := q.Get("extension")
		return (ext == "" || equal(ext, s.o.DifuseExtension)) && equal(strings.ToLower(key), want)
	}
	return false
}

// serveDifuse answers /pbx/cdr/data: one page of rows in insertion order (when calls ended, or when they
// started with Options.DifuseOrder ByStart), page 1 the oldest.
//
// The extension parameter is the CDR-access extension in the documentation's key= example; any other
// extension filters the rows to calls that involve it (cdr.Record.InvolvesExtension: source or destination).
func (s *Sim) serveDifuse(w http.ResponseWriter, r *http.Request) {
	if !s.difuseAuth(r) {
		s.deny(w, r)
		return
	}
	q := r.URL.Query()
	page, limit := 1, 10
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &page}, {"limit", &limit}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				writeJSONError(w, http.StatusBadRequest, p.name+" must be a whole number from 1")
				return
			}
			*p.dst = n
		}
	}
	ext := q.Get("extension")
	if ext == s.o.DifuseExtension {
		ext = ""
	}

	prefix := s.prefix
	var match func(*call) bool
	if ext != "" {
		dayCounts := s.extensionCounts()[ext]
		prefix = make([]int, len(s.prefix))
		for i, n := range dayCounts {
			prefix[i+1] = prefix[i] + int(n)
		}
		match = func(c *call) bool { return involves(c, ext) }
	}
	// Only the calls that had ended by the PBX's present have been written; they come first in each day's
	// insertion order, which is by end.
	vis := s.visibleUntil()
	prefix = s.visibleDayCounts(prefix, vis, match)
	total := prefix[len(prefix)-1]
	totalPages := (total + limit - 1) / limit
	noTotal := s.Faults().DifuseNoTotal
	if noTotal && page > totalPages {
		page = max(totalPages, 1)
	}

	w.Header().Set("Content-Type", "application/json")
	// The page is sent in pieces of about 60 KB, so a large limit never holds a whole page in memory. A write
	// fails only for a client that went away: the sim stops, and there is no one left to answer.
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, `{"data":[`...)
	base := baseURL(r)
	off := (page - 1) * limit
	if page <= totalPages {
		wrote := 0
		for d := s.dayAt(prefix, off); d < len(prefix)-1 && wrote < limit; d++ {
			if prefix[d+1] == prefix[d] {
				continue
			}
			calls := s.data.day(d, nil)
			order := s.rowOrder(calls)
			k := prefix[d] // db_id - 1 of the next row in this day (in the filtered numbering when filtering)
			dbBase := s.prefix[d]
			for pos, i := range order {
				c := &calls[i]
				if (ext != "" && !involves(c, ext)) || !ended(c, vis) {
					continue
				}
				if k < off {
					k++
					continue
				}
				if wrote > 0 {
					buf = append(buf, ',')
				}
				b, _ := json.Marshal(s.difuseRow(c, dbBase+pos+1, base))
				buf = append(buf, b...)
				if len(buf) >= 60<<10 {
					if _, err := w.Write(buf); err != nil {
						return
					}
					buf = buf[:0]
				}
				k++
				wrote++
				if wrote == limit {
					break
				}
			}
		}
	}
	buf = append(buf, `],"page":`...)
	buf = appendJSONString(buf, strconv.Itoa(page))
	buf = append(buf, `,"limit":`...)
	buf = appendJSONString(buf, strconv.Itoa(limit))
	if !noTotal {
		buf = append(buf, `,"total_pages":`...)
		buf = strconv.AppendInt(buf, int64(totalPages), 10)
	}
	buf = append(buf, "}\n"...)
	_, _ = w.Write(buf)
}

// rowOrder is the order a day's calls (sorted by start) are paged in, as indexes into calls.
func (s *Sim) rowOrder(calls []call) []int {
	if s.o.DifuseOrder == ByStart {
		idx := make([]int, len(calls))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return byEnd(calls)
}

func appendJSONString(buf []byte, v string) []byte {
	b, _ := json.Marshal(v)
	return append(buf, b...)
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(append(b, '\n')) // fails only for a client that went away: there is no one left to answer
}

func involves(c *call, ext string) bool { return c.rec.InvolvesExtension(ext) }

// extensionCounts counts, once, the calls per day that involve each extension, so a filtered page is found
// without generating every day again.
func (s *Sim) extensionCounts() map[string][]int32 {
	s.extOnce.Do(func() {
		n := len(s.prefix) - 1
		m := map[string][]int32{}
		add := func(ext string, d int) {
			if ext == "" {
				return
			}
			v := m[ext]
			if v == nil {
				v = make([]int32, n)
				m[ext] = v
			}
			v[d]++
		}
		for d := range n {
			if s.data.count(d) == 0 {
				continue
			}
			for _, c := range s.data.day(d, nil) {
				add(c.rec.Extension, d)
				add(c.rec.PeerExtension(), d)
			}
		}
		s.extCounts = m
	})
	return s.extCounts
}

// baseURL is the scheme and host the client used, for absolute recording URLs.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// difuseRow maps a call to the Difuse row shape: Asterisk's dispositions, wall-clock times in the PBX's zone,
// the Unix start time as a string.
func (s *Sim) difuseRow(c *call, dbID int, base string) difuseRow {
	rec := &c.rec
	row := difuseRow{
		DBID:        dbID,
		CallID:      rec.UniqueID,
		Disposition: asteriskDisposition(rec),
		Timestamp:   strconv.FormatInt(rec.Start.Unix(), 10),
		Date:        rec.Start.Format(difuseTime),
		StartTime:   rec.Start.Format(difuseTime),
		EndTime:     time.Unix(c.end, 0).UTC().Format(difuseTime),
	}
	if rec.Disposition == cdr.DispAnswered {
		row.AnswerTime = time.Unix(c.wall+int64(c.ring), 0).UTC().Format(difuseTime)
	}
	named := func(name, num string) string {
		if name == "" {
			name = num
		}
		return `"` + name + `" <` + num + `>`
	}
	switch rec.CallType {
	case cdr.CallInbound:
		num := rec.CallerID
		if i := strings.LastIndexByte(num, '<'); i >= 0 {
			num = strings.TrimSuffix(num[i+1:], ">")
		}
		row.CallerID = rec.CallerID
		if row.CallerID == "" {
			row.CallerID, num = `"Anonymous" <anonymous>`, "anonymous"
		}
		row.Source = num
		row.DestinationContext = "sip_inbound"
		row.Destination = rec.Extension
		row.InitialDestination = rec.Extension
	case cdr.CallOutbound:
		row.CallerID = named(rec.FriendlyName, rec.Extension)
		row.Source = rec.Extension
		row.DestinationContext = "sip_outbound"
		row.Destination = rec.DialledNumber
		row.InitialDestination = rec.DialledNumber
	default:
		row.CallerID = named(rec.FriendlyName, rec.Extension)
		row.Source = rec.Extension
		row.DestinationContext = "sip_internal"
		row.Destination = rec.DialledNumber
		row.InitialDestination = rec.DialledNumber
		if rec.CallType == cdr.CallOther {
			// Feature codes and ring groups: the PBX records where the call really went.
			row.ComputedDestination = rec.DialledNumber
			row.Destination = "s"
		}
	}
	if rec.HasRecording() {
		row.RecordingURL = base + "/pbx/cdr/recordings/" + url.PathEscape(rec.UniqueID) + "/" + url.PathEscape(rec.Recording)
	}
	return row
}

func asteriskDisposition(r *cdr.Record) string {
	switch r.Disposition {
	case cdr.DispAnswered:
		return "ANSWERED"
	case cdr.DispNoAnswer:
		return "NO ANSWER"
	case cdr.DispBusy:
		return "BUSY"
	case cdr.DispFailed:
		return "FAILED"
	}
	return strings.ToUpper(string(r.Disposition))
}

// serveDifuseRecording serves /pbx/cdr/recordings/<call_id>/<file name> with the same credentials as the data.
func (s *Sim) serveDifuseRecording(w http.ResponseWriter, r *http.Request) {
	if !s.difuseAuth(r) {
		s.deny(w, r)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/pbx/cdr/recordings/")
	id, name, _ := strings.Cut(rest, "/")
	c, ok := s.byID(id)
	if !ok || !c.rec.HasRecording() || (name != "" && name != c.rec.Recording) {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	sendRecording(w, r, s.data, &c)
}
