package cdr

import (
	"strings"
	"testing"
	"time"
)

// TestZoneInfoNamesNoFlag: how a zone was chosen is said without naming the flag that sets it, which is the
// caller's to name.
func TestZoneInfoNamesNoFlag(t *testing.T) {
	plus2 := time.FixedZone("UTC+02:00", 2*3600)
	for _, zi := range []ZoneInfo{
		{},
		{Location: plus2},
		{Location: plus2, Inferred: true},
		{Location: plus2, Inferred: true, Votes: 998, Samples: 1000},
	} {
		if s := zi.String(); strings.Contains(s, "--") || s == "" {
			t.Errorf("%+v: %q", zi, s)
		}
	}
	if s := (ZoneInfo{Location: plus2, Inferred: true, Votes: 998, Samples: 1000}).String(); s != "UTC+02:00 (inferred from 998 of 1000 rows)" {
		t.Errorf("%q", s)
	}
}
