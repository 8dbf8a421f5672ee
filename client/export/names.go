package export

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/reccache"
)

// claimKind says who holds a file name stem in the recordings folder.
type claimKind int

const (
	claimRun      claimKind = iota + 1 // a call of this export
	claimManifest                      // a call an earlier export saved, by the manifest
	claimDisk                          // a file already there that no manifest explains
	claimReserved                      // a name callscope keeps for itself (the manifest)
)

type claim struct {
	kind claimKind
	id   string // the call's unique ID for claimManifest
}

// namer hands out file name stems that are safe (only [A-Za-z0-9._-], no leading dot) and unique within one
// folder, whatever the PBX's IDs hold: a stem already taken gets -2, -3, … Stems are compared in lower case so
// the names stay distinct on case-insensitive file systems.
type namer struct {
	used map[string]claim
}

func newNamer() *namer { return &namer{used: map[string]claim{}} }

// baseStem is the stem a call would like: its unique ID made safe, or its start time when it has no ID.
func baseStem(r *cdr.Record) string {
	base := reccache.SafeID(r.UniqueID)
	if base == "" {
		base = "call-" + r.Start.Format("20060102-150405")
	}
	// Windows refuses these names whatever their extension; a prefix keeps the folder portable.
	if reservedDeviceName(base) {
		base = "_" + base
	}
	return base
}

func reservedDeviceName(stem string) bool {
	s := strings.ToUpper(stem)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	switch s {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(s) == 4 && (strings.HasPrefix(s, "COM") || strings.HasPrefix(s, "LPT")) && s[3] >= '1' && s[3] <= '9' {
		return true
	}
	return false
}

// candidates yields base, base-2, base-3, …
func candidate(base string, i int) string {
	if i == 1 {
		return base
	}
	return fmt.Sprintf("%s-%d", base, i)
}

func (n *namer) claimOf(stem string) (claim, bool) {
	c, ok := n.used[strings.ToLower(stem)]
	return c, ok
}

func (n *namer) take(stem string, c claim) { n.used[strings.ToLower(stem)] = c }

// stemOf is a saved file's name without its extension.
func stemOf(file string) string { return strings.TrimSuffix(file, filepath.Ext(file)) }

// extFor is the extension for a recording: from the bytes (wav, gsm) when they say, else from the PBX's name
// reduced to a safe one, else .audio (the decoder sniffs it again).
func extFor(format, pbxName string) string {
	if ext := cdr.AudioExt(format); ext != ".audio" {
		return ext
	}
	ext := strings.ToLower(filepath.Ext(reccache.SafeName(pbxName)))
	if ext == "" || ext == "." || len(ext) > 6 || ext == ".tmp" || ext == ".csv" {
		return ".audio"
	}
	return ext
}

// validFile reports whether name (from a manifest, which a person may have edited) is a plain file name in
// the folder that callscope could have written: nothing that climbs out, nothing hidden.
func validFile(name string) bool {
	if name == "" || len(name) > 200 || name[0] == '.' || strings.EqualFold(name, ManifestName) {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}
