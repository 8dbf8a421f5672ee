package pbxsim

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callscope/callscope/client/cdr"
)

// dirData serves a directory holding an index.txt in Com.X format and the recordings it names, beside it. An
// optional users.csv (extension,name,pin) lists the users; without one they are taken from the index.
type dirData struct {
	dir   string
	first int64
	days  [][]call
	us    []cdr.User
}

func loadDir(dir string, zone *time.Location) (*dirData, error) {
	f, err := os.Open(filepath.Join(dir, "index.txt"))
	if err != nil {
		return nil, fmt.Errorf("data directory: %w (it needs an index.txt in Com.X format)", err)
	}
	defer f.Close()
	var calls []call
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), " \r\t")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if text == "" {
			continue
		}
		c, err := parseIndexLine(text, zone)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %v", filepath.Join(dir, "index.txt"), line, err)
		}
		calls = append(calls, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, "index.txt"), err)
	}
	d := &dirData{dir: dir}
	slices.SortStableFunc(calls, func(a, b call) int {
		switch {
		case a.wall < b.wall:
			return -1
		case a.wall > b.wall:
			return 1
		}
		return 0
	})
	if len(calls) > 0 {
		d.first = civilDay(calls[0].wall)
		last := civilDay(calls[len(calls)-1].wall)
		d.days = make([][]call, last-d.first+1)
		for _, c := range calls {
			i := civilDay(c.wall) - d.first
			d.days[i] = append(d.days[i], c)
		}
	}
	d.us, err = loadUsers(filepath.Join(dir, "users.csv"))
	if errors.Is(err, os.ErrNotExist) {
		d.us, err = usersFromCalls(calls), nil
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (d *dirData) span() (int64, int)         { return d.first, len(d.days) }
func (d *dirData) count(i int) int            { return len(d.days[i]) }
func (d *dirData) day(i int, _ []call) []call { return d.days[i] }
func (d *dirData) users() []cdr.User          { return d.us }

func (d *dirData) open(c *call) (io.ReadCloser, int64, error) {
	name := c.rec.Recording
	if name != filepath.Base(name) || name == "." || name == ".." {
		return nil, 0, os.ErrNotExist
	}
	f, err := os.Open(filepath.Join(d.dir, name))
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func loadUsers(path string) ([]cdr.User, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var us []cdr.User
	for _, row := range rows {
		if len(row) < 2 {
			continue
		}
		u := cdr.User{Extension: row[0], Name: row[1]}
		if len(row) > 2 {
			u.PIN = cdr.Secret(row[2])
		}
		us = append(us, u)
	}
	return us, nil
}

func usersFromCalls(calls []call) []cdr.User {
	seen := map[string]string{}
	for _, c := range calls {
		if c.rec.Extension != "" && seen[c.rec.Extension] == "" {
			seen[c.rec.Extension] = c.rec.FriendlyName
		}
	}
	var us []cdr.User
	for ext, name := range seen {
		us = append(us, cdr.User{Extension: ext, Name: name})
	}
	slices.SortFunc(us, func(a, b cdr.User) int { return strings.Compare(a.Extension, b.Extension) })
	return us
}

// parseIndexLine reads one Com.X index line. Fields are not quoted, so a caller ID or friendly name may hold
// commas: the caller ID is everything between the dialled number and the first field that is followed by three
// numbers (disposition, duration, billable, size); in a 15-field line the friendly name is whatever is left
// before the last three fields.
func parseIndexLine(line string, zone *time.Location) (call, error) {
	f := strings.Split(line, ",")
	if len(f) < 11 {
		return call{}, fmt.Errorf("%d fields, want 11 or 15", len(f))
	}
	k := -1
	for j := 6; j+3 < len(f); j++ {
		if isInt(f[j+1]) && isInt(f[j+2]) && isInt(f[j+3]) {
			k = j
			break
		}
	}
	if k < 0 {
		return call{}, errors.New("no disposition followed by duration, billable seconds and size")
	}
	var c call
	r := &c.rec
	r.UniqueID = f[0]
	wall, err := time.ParseInLocation("2006/01/02/15:04:05", f[1], time.UTC)
	if err != nil {
		return call{}, fmt.Errorf("bad time %q", f[1])
	}
	c.wall = wall.Unix()
	y, mo, d := wall.Date()
	h, mi, s := wall.Clock()
	r.Start = time.Date(y, mo, d, h, mi, s, 0, zone)
	if ep, _, ok := strings.Cut(r.UniqueID, "."); ok {
		r.Epoch, _ = strconv.ParseInt(ep, 10, 64)
	}
	r.RawCallType = f[2]
	r.CallType = cdr.ParseCallType(f[2])
	r.Extension = f[3]
	r.DialledNumber = f[4]
	r.CallerID = strings.Join(f[5:k], ",")
	r.RawDisposition = f[k]
	r.Disposition = cdr.ParseDisposition(f[k])
	r.DurationS, _ = strconv.Atoi(f[k+1])
	r.BillableS, _ = strconv.Atoi(f[k+2])
	r.RecordingSize, _ = strconv.ParseInt(f[k+3], 10, 64)
	if k+4 < len(f) {
		r.Recording = f[k+4]
	}
	if rest := f[min(k+5, len(f)):]; len(rest) >= 4 {
		r.Extended = true
		n := len(rest)
		r.FriendlyName = strings.Join(rest[:n-3], ",")
		r.AccountCode, r.Channel, r.DestChannel = rest[n-3], rest[n-2], rest[n-1]
	}
	c.end = c.wall + int64(r.DurationS)
	c.ring = r.DurationS - r.BillableS
	c.pool = -1
	return c, nil
}

func isInt(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
