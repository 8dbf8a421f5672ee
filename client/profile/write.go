package profile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"

	"github.com/BurntSushi/toml"

	"github.com/callscope/callscope/client/outfile"
)

// newFileHeader starts a config file callscope creates.
const newFileHeader = `# callscope configuration. See "callscope config --help".
# Keep passwords out of this file: use password_env, password_cmd or the OS keyring
# ("callscope config set-password PROFILE").
`

// AddProfile adds profile name to the config file at path, creating the file (0600, in a 0700 directory) when
// there is none, and makes it the default when makeDefault is set or it is the first profile. The file is
// changed as text — the new profile appended, default_profile set — so the user's comments and layout stay;
// the result is parsed before it replaces the old file, atomically. A profile that exists is not replaced.
func AddProfile(path, name string, p Profile, makeDefault bool) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if p.Password.IsSet() {
		return errors.New("a password is not written to the config file by callscope: use the OS keyring, password_env or password_cmd")
	}
	if err := p.Validate(name); err != nil {
		return err
	}
	f, err := Load(path)
	if err != nil {
		return err
	}
	if _, ok := f.Profiles[name]; ok {
		return fmt.Errorf("profile %s already exists in %s: edit the file, or choose another name", name, path)
	}
	var data []byte
	if f.Found {
		if data, err = os.ReadFile(path); err != nil {
			return fmt.Errorf("reading config %s: %w", path, unwrapPathError(err))
		}
	} else {
		data = []byte(newFileHeader)
	}
	var block bytes.Buffer
	enc := toml.NewEncoder(&block)
	enc.Indent = ""
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("writing profile %s: %w", name, err)
	}
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		data = append(data, '\n')
	}
	data = append(data, "\n[profiles."+name+"]\n"...)
	data = append(data, block.Bytes()...)
	if makeDefault || len(f.Profiles) == 0 {
		data = setDefaultProfile(data, name)
	}

	check := &File{Path: path, Profiles: map[string]Profile{}}
	if err := check.parse(data); err != nil {
		return fmt.Errorf("adding profile %s would make the config unreadable (%v): edit %s by hand", name, err, path)
	}
	if _, ok := check.Profiles[name]; !ok {
		return fmt.Errorf("adding profile %s to %s did not work: edit the file by hand", name, path)
	}
	return WriteFileAtomic(path, data)
}

// defaultLineRE finds a top-level default_profile line.
var defaultLineRE = regexp.MustCompile(`(?m)^[ \t]*default_profile[ \t]*=.*$`)

// tableRE finds the first table header; top-level keys must come before it.
var tableRE = regexp.MustCompile(`(?m)^[ \t]*\[`)

// setDefaultProfile sets default_profile in the file's text: it replaces the top-level line if there is one,
// and otherwise adds one before the first table.
func setDefaultProfile(data []byte, name string) []byte {
	line := []byte(`default_profile = "` + name + `"`)
	top := len(data)
	if loc := tableRE.FindIndex(data); loc != nil {
		top = loc[0]
	}
	if loc := defaultLineRE.FindIndex(data[:top]); loc != nil {
		out := append([]byte{}, data[:loc[0]]...)
		out = append(out, line...)
		return append(out, data[loc[1]:]...)
	}
	out := append([]byte{}, data[:top]...)
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	out = append(out, line...)
	out = append(out, "\n\n"...)
	return append(out, bytes.TrimLeft(data[top:], "\n")...)
}

// WriteFileAtomic writes data to path with mode 0600 so that the file is at every moment either the old one or
// the new one, whole: a temporary file in the same directory, synced, then renamed over path. The directory is
// created 0700 when missing.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, unwrapPathError(err))
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing config in %s: %w", dir, unwrapPathError(err))
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close() // may be closed already; it is being thrown away
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("writing config %s: %w", path, unwrapPathError(err))
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing config %s: %w", path, unwrapPathError(err))
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing config %s: %w", path, unwrapPathError(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing config %s: %w", path, unwrapPathError(err))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing config %s: %w", path, unwrapPathError(err))
	}
	done = true
	outfile.SyncDir(dir)
	return nil
}
