package pbxsim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// serve applies the fault switches, then routes. Each request sees the switches as they were when it arrived.
func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	f := s.Faults()
	n := s.reqs.Add(1)
	began := time.Now()
	s.stampDate(w)
	cw := &countingWriter{ResponseWriter: w, status: http.StatusOK, cutAfter: f.CutAfterBytes}
	defer func() {
		if s.o.Log != nil {
			fmt.Fprintf(s.o.Log, "pbxsim %s %s %d %dB %s\n", r.Method, redactQuery(r), cw.status, cw.n,
				time.Since(began).Round(time.Millisecond))
		}
	}()
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.done:
			t.Stop()
			return
		}
	}
	if f.Stall {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		cw.status = 0
		return
	}
	if f.Unauthorized {
		s.deny(cw, r)
		return
	}
	if f.ServerErrorEvery > 0 && n%int64(f.ServerErrorEvery) == 0 {
		http.Error(cw, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(cw, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mux.ServeHTTP(cw, r)
}

// deny answers 401 with the challenge of the API asked for.
func (s *Sim) deny(w http.ResponseWriter, r *http.Request) {
	realm := "commagui"
	if strings.HasPrefix(r.URL.Path, "/pbx/") {
		realm = "difuse"
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
	http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
}

// redactQuery is the request path and query with a Difuse key hidden, for the log.
func redactQuery(r *http.Request) string {
	q := r.URL.Query()
	if q.Has("key") {
		q.Set("key", "REDACTED")
		return r.URL.Path + "?" + q.Encode()
	}
	return r.URL.RequestURI()
}

// countingWriter counts body bytes for the log and, when cutAfter is set, drops the connection once that many
// bytes have gone out: the client sees a body that ends early, as when a PBX dies mid-download.
type countingWriter struct {
	http.ResponseWriter
	status   int
	n        int64
	cutAfter int64
}

func (w *countingWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.cutAfter > 0 && w.n+int64(len(p)) >= w.cutAfter {
		k, _ := w.ResponseWriter.Write(p[:w.cutAfter-w.n])
		w.n += int64(k)
		if fl, ok := w.ResponseWriter.(http.Flusher); ok {
			fl.Flush()
		}
		// ErrAbortHandler makes net/http close the connection without ending the body properly, quietly.
		panic(http.ErrAbortHandler)
	}
	k, err := w.ResponseWriter.Write(p)
	w.n += int64(k)
	return k, err
}

func (w *countingWriter) Flush() {
	if fl, ok := w.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}
