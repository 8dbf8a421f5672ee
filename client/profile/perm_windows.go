//go:build windows

package profile

import "os"

// checkPrivate has nothing to check on Windows: the user profile directory's ACL already keeps other users
// out, and Unix mode bits mean nothing there.
func checkPrivate(string, os.FileInfo) error { return nil }
