package cli

import (
	"regexp"
	"strings"
	"testing"
)

// TestTableShowsExtensionNames: without --extended the PBX sends no friendly names; the table takes them
// from the users list, as the app does.
func TestTableShowsExtensionNames(t *testing.T) {
	out, errs, code := run(t, nil, "calls", "--demo", "--from", "2013-03-01", "--to", "2013-03-02")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^2013-03-01T09:33:00\+02:00 +inbound +8266 +Front Desk +`),
		regexp.MustCompile(`(?m)^2013-03-01T10:11:31\+02:00 +outbound +8264 +Thandi Mokoena +0215551111 `),
	} {
		if !want.MatchString(out) {
			t.Errorf("table does not match %s:\n%s", want, out)
		}
	}
}

// TestCallVertical: call prints every field of the call, one per line; --format csv and json are the rows
// calls writes.
func TestCallVertical(t *testing.T) {
	out, errs, code := run(t, nil, "call", "--demo", "--id", "1396000115.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, line := range []string{
		"unique ID            1396000115.1",
		"start                2014-03-28T11:48:35+02:00",
		"type                 outbound",
		"extension            8264 Thandi Mokoena",
		"dialled number       0117824400",
		"caller ID            -",
		"disposition          answered",
		"duration             0:47",
		"billable             0:41",
		"recording file       OUT8264-20140328-114835-1396000115.1.gsm",
		"recording size       67,650 bytes",
		"account code         -",
		"channel              SIP/8264-00000001",
		"destination channel  SIP/telkom-trunk-00000002",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("call output lacks %q:\n%s", line, out)
		}
	}
	out, _, _ = run(t, nil, "call", "--demo", "--id", "1396000115.1", "--format", "csv")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "unique_id,") ||
		!strings.HasSuffix(lines[1], ",SIP/8264-00000001,SIP/telkom-trunk-00000002") {
		t.Errorf("call --format csv:\n%s", out)
	}
}
