package outfile

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"unicode/utf8"
)

// maxTempBase keeps a temporary name (the final name, a dot, a random number and .tmp) under the 255 bytes
// most file systems allow, so a long final name does not make its temporary file impossible.
const maxTempBase = 200

// Temp creates a new, empty temporary file in dir for a file that will be named name: hidden (".name.123.tmp"),
// opened for reading and writing, with mode 0644 less the umask, the mode the final file will have. The caller
// renames it into place or removes it.
func Temp(dir, name string) (*os.File, error) {
	if len(name) > maxTempBase {
		name = name[:maxTempBase]
		for len(name) > 0 && !utf8.ValidString(name) {
			name = name[:len(name)-1]
		}
	}
	for range 100 {
		p := filepath.Join(dir, "."+name+"."+strconv.FormatUint(uint64(rand.Uint32()), 10)+".tmp")
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	// Not fs.ErrExist: that would read as "the output exists".
	return nil, errors.New("no free name for a temporary file")
}
