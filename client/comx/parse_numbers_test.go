package comx

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// referenceCount is parseCount by strconv: a whole number of ASCII digits up to maxVal.
func referenceCount(v string, maxVal int64) (int64, string) {
	if v == "" {
		return -1, ""
	}
	if !isDigits(v) || len(v) > 19 {
		return 0, "not a whole number"
	}
	x, err := strconv.ParseInt(v, 10, 64)
	if err != nil || x > maxVal {
		return 0, "too large"
	}
	return x, ""
}

// referenceEpoch is idEpoch by strconv: the digits before the first dot, up to twelve of them.
func referenceEpoch(id string) int64 {
	head, _, _ := strings.Cut(id, ".")
	if !isDigits(head) || len(head) > 12 {
		return 0
	}
	x, _ := strconv.ParseInt(head, 10, 64)
	return x
}

func checkNumbers(t *testing.T, v string) {
	t.Helper()
	for _, maxVal := range []int64{math.MaxInt32, math.MaxInt64} {
		got, err := parseCount(v, "size", maxVal)
		want, wantErr := referenceCount(v, maxVal)
		if (err == nil) != (wantErr == "") || (err != nil && !strings.Contains(err.Error(), wantErr)) || (err == nil && got != want) {
			t.Fatalf("parseCount(%q, %d) = %d, %v; want %d, %q", v, maxVal, got, err, want, wantErr)
		}
	}
	if got, want := idEpoch(v), referenceEpoch(v); got != want {
		t.Fatalf("idEpoch(%q) = %d, want %d", v, got, want)
	}
}

func TestParseNumbers(t *testing.T) {
	for _, v := range []string{
		"", "0", "7", "007", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808",
		"99999999999999999999", "999999999999999999", "1000000000000000000", "12a", "-1", "+1", " 1", "1 ",
		"1396000115.1", "1396000115", ".1", "1.", "123456789012.5", "1234567890123.5", "123456789012", "1..2", "١٢",
	} {
		checkNumbers(t, v)
	}
}

func FuzzParseNumbers(f *testing.F) {
	for _, v := range []string{"1396000115.1", "9223372036854775807", "2147483648", "12a", ".1"} {
		f.Add(v)
	}
	f.Fuzz(checkNumbers)
}
