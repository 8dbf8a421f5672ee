package transport

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCapReader(t *testing.T) {
	tooBig := fmt.Errorf("the answer is too large: %w", ErrTooLarge)
	for _, tc := range []struct {
		body string
		max  int64
		ok   bool
	}{
		{"", 0, true},
		{"a", 0, false},
		{"hello", 5, true},
		{"hello", 6, true},
		{"hello!", 5, false},
		{strings.Repeat("x", 10000), 4096, false},
		{strings.Repeat("x", 4096), 4096, true},
	} {
		for _, one := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tc.body)
			if one {
				r = iotest.OneByteReader(r)
			}
			got, err := io.ReadAll(&CapReader{R: r, Max: tc.max, Err: tooBig})
			if tc.ok && (err != nil || string(got) != tc.body) {
				t.Errorf("%d bytes, max %d: %d bytes, %v", len(tc.body), tc.max, len(got), err)
			}
			if !tc.ok && (!errors.Is(err, ErrTooLarge) || int64(len(got)) != tc.max) {
				t.Errorf("%d bytes, max %d: %d bytes handed over, error %v; want %d and ErrTooLarge", len(tc.body), tc.max, len(got), err, tc.max)
			}
		}
	}
}
