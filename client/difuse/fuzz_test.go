package difuse

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecodePage feeds the page decoder anything a PBX might send. It must not panic, must hand over rows one
// at a time (each either a row or a row's error), and must report damage as an error, never as rows made up.
func FuzzDecodePage(f *testing.F) {
	for _, s := range []string{
		specSample,
		`{"data":[],"page":"1","limit":"10","total_pages":0}`,
		`{"data":null}`,
		`{"data":[{"db_id":{"x":1}},{"db_id":2,"start_time":"2024-02-03 08:48:29"}],"total_pages":"3"}`,
		`{"data":[1,"two",null,[]],"page":1e400}`,
		`{"total_pages":"NaN"}`,
		`{"data":{"db_id":1}}`,
		`[{"db_id":1}]`,
		`{"data":[{"db_id":1,`,
		`<html>Please log in</html>`,
		``,
		`{"extra":{"deep":[1,2,{"x":"y"}]},"data":[]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		meta, err := decodePage(strings.NewReader(body), func(w *rowJSON, rerr error) error {
			if (w == nil) == (rerr == nil) {
				t.Fatalf("a row and an error, or neither: %v %v", w, rerr)
			}
			if w != nil {
				w.toRow() // mapping any row the decoder accepts must not panic either
			}
			return nil
		})
		if err == nil && !strings.Contains(body, "{") {
			t.Fatalf("no object, yet no error: %q", body)
		}
		var se *shapeError
		if errors.As(err, &se) && strings.Contains(se.Error(), "\n") {
			t.Fatalf("message on two lines: %q", se.Error())
		}
		if err == nil && (meta.TotalPages > maxFlexInt || meta.TotalPages < -maxFlexInt) {
			t.Fatalf("total_pages %d out of bounds", meta.TotalPages)
		}
	})
}
