package pbxsim

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
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
	defer func() { _ = f.Close() }()
	var calls []call
	p := comx.NewParser(f)
	for {
		r, err := p.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "index.txt"), err)
		}
		calls = append(calls, dirCall(r, zone))
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
		_ = f.Close()
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

// dirCall makes a served call from a parsed index row (its Start a wall clock read as UTC).
func dirCall(r cdr.Record, zone *time.Location) call {
	c := call{rec: r, wall: r.Start.Unix(), pool: -1}
	y, mo, d := r.Start.Date()
	h, mi, sec := r.Start.Clock()
	c.rec.Start = time.Date(y, mo, d, h, mi, sec, 0, zone)
	c.end = c.wall + int64(max(r.DurationS, 0))
	c.ring = max(r.DurationS, 0) - max(r.BillableS, 0)
	return c
}
