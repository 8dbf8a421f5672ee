package pbxsim

import (
	"archive/zip"
	"bufio"
	"crypto/subtle"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/callscope/callscope/client/comx"
)

// serveComx answers /commagui/cdr as a Com.X does (HTTP CDR retrieval spec v1.6).
func (s *Sim) serveComx(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || !equal(user, s.o.ComxUser) || !equal(pass, s.o.ComxPassword) {
		s.deny(w, r)
		return
	}
	q := r.URL.Query()
	if q.Has("users") {
		s.comxUsers(w)
		return
	}
	format := q.Get("format")
	extended := q.Has("extended") && !s.o.NoExtendedLicence
	if format != "" && format != "txt" && format != "ziprec" {
		http.Error(w, "format must be txt or ziprec", http.StatusBadRequest)
		return
	}

	// One call, by unique ID or exact start time.
	if q.Has("id") || isExactStart(q.Get("start")) {
		var c call
		var found bool
		if q.Has("id") {
			c, found = s.byID(q.Get("id"))
		} else {
			wall, _ := parseComxTime(q.Get("start"))
			c, found = s.byStart(wall)
		}
		if !found {
			// A Com.X answers a call it does not know with an empty 200.
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusOK)
			return
		}
		switch format {
		case "txt":
			s.comxIndex(w, []call{c}, extended)
		case "ziprec":
			s.comxZip(w, r, func(fn func(*call) bool) { fn(&c) }, extended)
		default:
			s.comxRecording(w, r, &c)
		}
		return
	}

	if format == "" {
		http.Error(w, "format=txt or format=ziprec is required", http.StatusBadRequest)
		return
	}
	lo, hi := int64(minWall), int64(maxWall)
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"start", &lo}, {"end", &hi}} {
		if v := q.Get(p.name); v != "" {
			wall, ok := parseComxTime(v)
			if !ok {
				http.Error(w, p.name+" must be YYYYMMDD or YYYYMMDDhhmm", http.StatusBadRequest)
				return
			}
			*p.dst = wall
		}
	}
	each := func(fn func(*call) bool) { s.rangeCalls(lo, hi, fn) }
	if format == "txt" {
		s.comxIndexStream(w, each, extended)
		return
	}
	s.comxZip(w, r, each, extended)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// isExactStart tells a one-call start (YYYYMMDDhhmmss, or the spec's 2014/03/28/11:48:35) from a range start.
func isExactStart(v string) bool { return len(v) == 14 || len(v) == 19 }

// parseComxTime reads YYYYMMDD, YYYYMMDDhhmm, YYYYMMDDhhmmss or YYYY/MM/DD/hh:mm:ss as a wall clock.
func parseComxTime(v string) (int64, bool) {
	var layout string
	switch len(v) {
	case 8:
		layout = "20060102"
	case 12:
		layout = "200601021504"
	case 14:
		layout = "20060102150405"
	case 19:
		layout = comx.TimeLayout
	default:
		return 0, false
	}
	t, err := time.ParseInLocation(layout, v, time.UTC)
	if err != nil {
		return 0, false
	}
	return t.Unix(), true
}

func (s *Sim) comxUsers(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/csv")
	cw := csv.NewWriter(w)
	cw.UseCRLF = s.o.CRLF
	for _, u := range s.data.users() {
		if cw.Write([]string{u.Extension, u.Name, u.PIN.Reveal()}) != nil {
			return // the client went away: there is no one left to answer
		}
	}
	cw.Flush()
}

func (s *Sim) comxIndex(w http.ResponseWriter, calls []call, extended bool) {
	s.comxIndexStream(w, func(fn func(*call) bool) {
		for i := range calls {
			if !fn(&calls[i]) {
				return
			}
		}
	}, extended)
}

func (s *Sim) comxIndexStream(w http.ResponseWriter, each func(func(*call) bool), extended bool) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	bw := bufio.NewWriterSize(w, 64<<10)
	if s.writeIndex(bw, each, extended, s.o.BOM) == nil {
		_ = bw.Flush() // fails only for a client that went away: there is no one left to answer
	}
}

// writeIndex writes index lines with AppendLine, applying the malformed-line fault.
func (s *Sim) writeIndex(w io.Writer, each func(func(*call) bool), extended, bom bool) error {
	every := s.Faults().MalformedEvery
	eol := "\n"
	if s.o.CRLF {
		eol = "\r\n"
	}
	buf := make([]byte, 0, 64<<10)
	if bom {
		buf = append(buf, "\ufeff"...)
	}
	line := 0
	var err error
	each(func(c *call) bool {
		line++
		start := len(buf)
		buf = comx.AppendLine(buf, &c.rec, extended)
		if every > 0 && line%every == 0 {
			buf = malform(buf[:start], buf[start:], line/every)
		}
		buf = append(buf, eol...)
		if len(buf) >= 60<<10 {
			if _, err = w.Write(buf); err != nil {
				return false
			}
			buf = buf[:0]
		}
		return true
	})
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}

// malform turns a good line into one of three kinds of bad one: cut short, an impossible date, a word where
// the duration should be.
func malform(dst, line []byte, k int) []byte {
	fields := splitComma(line)
	switch k % 3 {
	case 0:
		dst = append(dst, fields[0]...)
		dst = append(dst, ',')
		dst = append(dst, fields[1]...)
		dst = append(dst, ",CALLTYPE_INBOUND,"...)
	case 1:
		dst = append(dst, fields[0]...)
		dst = append(dst, ",2013/13/45/99:99:99"...)
		for _, f := range fields[2:] {
			dst = append(dst, ',')
			dst = append(dst, f...)
		}
	default:
		dst = append(dst, "garbage,"...)
		dst = append(dst, fields[1]...)
		dst = append(dst, ",CALLTYPE_OUTBOUND,8266,,,CALL_ANSWERED,abc,def,ghi,"...)
	}
	return dst
}

func splitComma(b []byte) [][]byte {
	var out [][]byte
	for {
		i := indexByte(b, ',')
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i])
		b = b[i+1:]
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// comxZip streams a flat zip: index.txt first, then each listed recording in its native format. The index is
// written from one pass over the calls and the recordings from a second, so nothing is held in memory.
func (s *Sim) comxZip(w http.ResponseWriter, r *http.Request, each func(func(*call) bool), extended bool) {
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="cdr.zip"`)
	// A write fails only for a client that went away: the sim stops writing, and there is no one left to answer.
	bw := bufio.NewWriterSize(w, 64<<10)
	defer func() { _ = bw.Flush() }()
	zw := zip.NewWriter(bw)
	now := s.Now()
	iw, err := zw.CreateHeader(&zip.FileHeader{Name: "index.txt", Method: zip.Deflate, Modified: now})
	if err != nil {
		return
	}
	if s.writeIndex(iw, each, extended, false) != nil {
		return
	}
	each(func(c *call) bool {
		if !c.rec.HasRecording() {
			return true
		}
		rc, _, err := s.data.open(c)
		if err != nil {
			return true // a recording the index names but the disk lost: the PBX leaves it out
		}
		defer func() { _ = rc.Close() }()
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: c.rec.Recording, Method: zip.Store, Modified: c.rec.Start})
		if err != nil {
			return false
		}
		_, err = io.Copy(fw, rc)
		return err == nil && r.Context().Err() == nil
	})
	if s.Faults().TruncateZip {
		return // no central directory: the archive ends after its last entry's data
	}
	_ = zw.Close()
}

// comxRecording sends one call's recording as it is on disk.
func (s *Sim) comxRecording(w http.ResponseWriter, r *http.Request, c *call) {
	if !c.rec.HasRecording() {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	sendRecording(w, r, s.data, c)
}

func sendRecording(w http.ResponseWriter, r *http.Request, d dataset, c *call) {
	rc, size, err := d.open(c)
	if err != nil {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	defer func() { _ = rc.Close() }()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Disposition", `attachment; filename="`+url.PathEscape(c.rec.Recording)+`"`)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.Copy(w, rc) // fails only for a client that went away: there is no one left to answer
}

// WriteIndex writes the Com.X index of the calls whose wall-clock start is in [from, to) (zero: open) exactly as
// format=txt serves it, faults and line endings included, without a BOM.
func (s *Sim) WriteIndex(w io.Writer, from, to time.Time, extended bool) error {
	var lo, hi int64 = minWall, maxWall
	if !from.IsZero() {
		lo = wallOf(from)
	}
	if !to.IsZero() {
		hi = wallOf(to)
	}
	return s.writeIndex(w, func(fn func(*call) bool) { s.rangeCalls(lo, hi, fn) }, extended, false)
}
