//go:build !windows

package profile

import "os"

// checkPrivate refuses a config file whose mode lets the group or others read or write it: it names password
// commands and keyring entries, and (when the user insisted) may hold a password.
func checkPrivate(path string, st os.FileInfo) error {
	if mode := st.Mode().Perm(); mode&0o077 != 0 {
		return &PermissionError{Path: path, Mode: mode}
	}
	return nil
}
