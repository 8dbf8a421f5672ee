package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// zoneDirs are where systems keep the IANA time zone database (the places Go's time package reads).
var zoneDirs = []string{"/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/usr/lib/locale/TZ", "/etc/zoneinfo"}

// commonZones stand in where the system has no zone database to list (Windows): the zones a PBX is most
// often in, by region.
var commonZones = []string{
	"UTC", "Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi", "America/Chicago",
	"America/Denver", "America/Los_Angeles", "America/New_York", "America/Sao_Paulo", "Asia/Dubai",
	"Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Europe/Berlin", "Europe/London",
	"Europe/Paris", "Pacific/Auckland",
}

// completeZones offers the IANA zone names that start with what was typed, in any case.
func completeZones(_ *cobra.Command, _ []string, typed string) ([]string, cobra.ShellCompDirective) {
	return zoneNames(typed), cobra.ShellCompDirectiveNoFileComp
}

// zoneNames lists the zone names of the system's database (or commonZones) that start with prefix.
func zoneNames(prefix string) []string {
	dirs := zoneDirs
	if z := os.Getenv("ZONEINFO"); z != "" {
		dirs = append([]string{z}, dirs...)
	}
	match := func(name string) bool { return strings.HasPrefix(strings.ToLower(name), strings.ToLower(prefix)) }
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		var names []string
		// What cannot be read is skipped: the walk itself never fails.
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(dir, path)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				// posix/ and right/ repeat the database with other leap second rules.
				if rel == "posix" || rel == "right" {
					return filepath.SkipDir
				}
				return nil
			}
			// Zone names start with a capital letter (Africa/…, UTC); the database's own files (zone.tab,
			// leapseconds, posixrules) do not, or have a dot.
			if rel == "" || rel[0] < 'A' || rel[0] > 'Z' || strings.Contains(rel, ".") || !match(rel) || !isTZif(path) {
				return nil
			}
			names = append(names, rel)
			return nil
		})
		if len(names) > 0 {
			slices.Sort(names)
			return names
		}
	}
	var names []string
	for _, z := range commonZones {
		if match(z) {
			names = append(names, z)
		}
	}
	return names
}

// isTZif reports whether the file is a compiled zone (it starts with the TZif magic).
func isTZif(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	var magic [4]byte
	n, _ := f.Read(magic[:])
	return n == 4 && string(magic[:]) == "TZif"
}
