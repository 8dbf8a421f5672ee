package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The app's own settings are checked before anything starts: a wrong theme or country code is a usage error
// (exit 2) that says what to write, wherever it came from.
func TestAppSettingsAreChecked(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("theme = \"purple\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"flag", nil, []string{"--demo", "--theme", "sepia"}, `--theme: theme "sepia": use dark, light or auto`},
		{"env", map[string]string{envTheme: "blue"}, []string{"--demo"}, `$CALLSCOPE_THEME: theme "blue"`},
		{"config", map[string]string{"CALLSCOPE_CONFIG": cfg}, []string{"--demo"}, `theme in ` + cfg + `: theme "purple"`},
		{"country code", nil, []string{"--demo", "--theme", "dark", "--country-code", "027"}, "--country-code: country code \"027\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envTheme, "")
			t.Setenv("CALLSCOPE_CONFIG", filepath.Join(dir, "none.toml"))
			_, errs, code := run(t, tc.env, tc.args...)
			if code != exitUsage || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 saying %q", code, errs, tc.want)
			}
		})
	}
}

// --theme, then $CALLSCOPE_THEME, then the config file's theme; the demo's country code is its PBX's, 27.
func TestAppPreferencesOrder(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("theme = \"light\"\ncountry_code = \"+44\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CALLSCOPE_CONFIG", cfg)
	t.Setenv(envTheme, "")
	t.Setenv(envCountryCode, "")
	prefs := func(a *app) appSettings {
		t.Helper()
		p, err := a.appPreferences()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := prefs(&app{}); p.dark == nil || *p.dark || p.countryCode != "44" {
		t.Fatalf("from the config file: dark %v, country code %q; want light, 44", p.dark, p.countryCode)
	}
	t.Setenv(envTheme, "dark")
	if p := prefs(&app{}); p.dark == nil || !*p.dark {
		t.Fatal("$CALLSCOPE_THEME does not win over the file")
	}
	a := &app{}
	a.tuiFlags.theme = "auto"
	if p := prefs(a); p.dark != nil {
		t.Fatal("--theme auto does not win over $CALLSCOPE_THEME")
	}
	t.Setenv("CALLSCOPE_CONFIG", filepath.Join(dir, "none.toml"))
	if p := prefs(&app{demo: true}); p.countryCode != "27" {
		t.Fatalf("the demo's country code is %q, want its PBX's 27", p.countryCode)
	}
}

// The test hook $CALLSCOPE_TEST_NOW moves the app's clock and the demo PBX's together: the demo's calls end at
// that instant.
func TestTestNowMovesTheDemoClock(t *testing.T) {
	t.Setenv(envTestNow, "2025-06-10T05:30:00+02:00")
	out, errs, code := run(t, nil, "calls", "--demo", "--from", "2025-06-09", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%d rows (%v): the demo has no calls on the faked clock's days", len(rows), err)
	}
	end := time.Date(2025, 6, 10, 5, 30, 0, 0, time.FixedZone("", 2*3600))
	for _, r := range rows[1:] {
		st, err := time.Parse(time.RFC3339, r[1])
		if err != nil {
			t.Fatal(err)
		}
		if !st.Before(end) {
			t.Fatalf("call %s starts at %s, after the demo's faked now %s", r[0], r[1], end)
		}
	}
	a := &app{}
	if d := a.now().Sub(end); d < 0 || d > time.Minute {
		t.Fatalf("the app's clock is %v off the hook's", d)
	}
}
