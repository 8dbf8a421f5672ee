package cdrsync

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStateVersions: a version-1 state (before archives had IDs) is still read; a saved state reads back.
func TestStateVersions(t *testing.T) {
	dir := t.TempDir()
	v1 := `{"version":1,"source":"comx http://10.0.0.5","through":"2014-03-28T11:00:00","updated":"2014-03-28T09:00:05Z"}`
	os.WriteFile(filepath.Join(dir, StateName), []byte(v1), 0o600)
	st, err := LoadState(dir)
	if err != nil || st.Source != "comx http://10.0.0.5" || st.Archive != "" ||
		!st.Through.Equal(time.Date(2014, 3, 28, 11, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v %v", st, err)
	}
	st.Archive = "0123456789abcdef01234567"
	if err := saveState(dir, st); err != nil {
		t.Fatal(err)
	}
	back, err := LoadState(dir)
	if err != nil || back.Archive != st.Archive || !back.Through.Equal(st.Through) || back.Source != st.Source {
		t.Fatalf("%+v %v", back, err)
	}
	os.WriteFile(filepath.Join(dir, StateName), []byte(`{"version":9}`), 0o600)
	if _, err := LoadState(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("version 9: %v", err)
	}
}

// FuzzLoadState: whatever sync-state.json holds, it is read or refused in one line, never a panic, and what
// is read saves and reads back the same.
func FuzzLoadState(f *testing.F) {
	for _, s := range []string{
		`{"version":2,"source":"comx http://10.0.0.5","archive":"ab12","through":"2014-03-28T11:00:00","updated":"2014-03-28T09:00:05Z"}`,
		`{"version":1,"source":"difuse https://pbx:8443"}`,
		`{"version":2,"through":"yesterday"}`, `{}`, `[]`, `{"version":"2"}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, StateName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := LoadState(dir)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if err := saveState(dir, st); err != nil {
			t.Fatal(err)
		}
		back, err := LoadState(dir)
		if err != nil || back.Source != st.Source || back.Archive != st.Archive || !back.Through.Equal(st.Through) {
			t.Fatalf("%+v read back as %+v (%v)", st, back, err)
		}
	})
}
