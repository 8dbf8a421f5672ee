package difuse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/transport"
)

// idWindow is how far around the time in a call's ID the search looks: the ID's Unix time is turned into the
// PBX's wall clock with the zone, which when inferred is a fixed offset and may be an hour off across a DST
// change.
const idWindow = 90 * time.Minute

// Call finds one call. Difuse has no single-call endpoint, so it is a range search: around the Unix time an
// Asterisk ID starts with (1706950109.0), or the exact start second.
func (c *Client) Call(ctx context.Context, l cdr.Lookup) (cdr.Record, error) {
	if l.IsZero() {
		return cdr.Record{}, errors.New("no call named: give an ID or a start time")
	}
	s := c.newSearch(cdr.Query{}, cdr.Observer{}) // a look-up's warnings go to the client's Warn
	var f filter
	var match func(*row) bool
	if l.ID != "" {
		epoch, err := idEpoch(l.ID)
		if err != nil {
			return cdr.Record{}, err
		}
		wall, err := c.epochToWall(ctx, s, epoch)
		if err != nil {
			return cdr.Record{}, err
		}
		f = filter{from: wall.Add(-idWindow), to: wall.Add(idWindow)}
		match = func(r *row) bool { return r.rec.UniqueID == l.ID }
	} else {
		start := cdr.WallClock(l.Start).Truncate(time.Second)
		f = filter{from: start, to: start.Add(time.Second)}
		match = func(*row) bool { return true }
	}
	var found *row
	var window []row
	err := s.run(ctx, f, func(r row) error {
		window = append(window, r)
		if match(&r) {
			found = &r
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return cdr.Record{}, err
	}
	if found == nil {
		return cdr.Record{}, cdr.NotFoundError(l)
	}
	for _, r := range window {
		c.zone.Vote(r.start, r.rec.Epoch)
	}
	rec := found.rec
	rec.Start = c.zone.Place(found.start)
	return rec, nil
}

// idEpoch reads the Unix time an Asterisk unique ID starts with.
func idEpoch(id string) (int64, error) {
	head, _, _ := strings.Cut(strings.TrimSpace(id), ".")
	e, err := strconv.ParseInt(head, 10, 64)
	if err != nil || e < 100000000 {
		return 0, fmt.Errorf("call ID %q does not start with a Unix time, so a Difuse PBX cannot be searched for it: list the calls around its time instead", id)
	}
	return e, nil
}

// epochToWall turns Unix seconds into the PBX's wall clock: with the configured zone, or with the offset the
// rows on page 1 vote for.
func (c *Client) epochToWall(ctx context.Context, s *search, epoch int64) (time.Time, error) {
	if !c.zone.Decided() {
		p, err := s.get(ctx, 1)
		if err != nil {
			return time.Time{}, err
		}
		for _, r := range p.rows {
			c.zone.Vote(r.start, r.rec.Epoch)
		}
	}
	t := c.zone.Place(time.Unix(epoch, 0).UTC())
	// Place read the UTC clock as a wall clock; what is wanted is the instant shown in the zone.
	return cdr.WallClock(time.Unix(epoch, 0).In(t.Location())), nil
}

// Recording fetches the call's recording_url. The PBX's credentials go only to the PBX's own scheme, host and
// port: a plain-http link on the host of an https PBX is asked for over https instead (the credentials would
// otherwise cross the network in clear), and a link anywhere else is fetched without any credential. Another
// host may well serve recordings by link alone (a file server, a storage bucket); refusing it would lose the
// recording, and nothing callscope holds is sent to it.
// Difuse gives no recording sizes, so a recording larger than Config.MaxRecordingBytes is stopped with an error
// wrapping transport.ErrTooLarge.
func (c *Client) Recording(ctx context.Context, l cdr.Lookup) (*cdr.Recording, error) {
	var rec cdr.Record
	if l.Record != nil {
		rec = *l.Record
	} else {
		var err error
		if rec, err = c.Call(ctx, l); err != nil {
			return nil, err
		}
	}
	if l.ID == "" {
		l.ID = rec.UniqueID
	}
	if strings.TrimSpace(rec.Recording) == "" {
		return nil, cdr.NoRecordingError(l)
	}
	ref, err := url.Parse(strings.TrimSpace(rec.Recording))
	if err != nil {
		return nil, fmt.Errorf("call %s: the PBX gave a recording URL that cannot be read", l.ID)
	}
	link := c.data.ResolveReference(ref)
	if link.Scheme != "http" && link.Scheme != "https" {
		return nil, fmt.Errorf("call %s: recording URL scheme %q is not http or https", l.ID, link.Scheme)
	}
	link.User = nil
	u, place := transport.PlaceLink(c.data, link)
	req := transport.Request{URL: u}
	if place != transport.Elsewhere {
		req = c.request(u)
	}
	req.Accept = ""
	resp, err := c.hc.Get(ctx, req)
	if err != nil {
		st := transport.StatusOf(err)
		switch {
		case place == transport.Upgraded && ctx.Err() == nil:
			// The link is plain http; its https form is all that may be tried.
			return nil, fmt.Errorf("call %s: the PBX links the recording over plain http (%s), where its credentials would go in clear, and over https it failed: %w",
				l.ID, transport.Redact(link.String()), err)
		case st == http.StatusNotFound:
			return nil, cdr.NoRecordingError(l)
		case place == transport.Elsewhere && (st == http.StatusUnauthorized || st == http.StatusForbidden):
			return nil, fmt.Errorf("call %s: the recording is at %s, which refused it without credentials (HTTP %d); callscope sends the PBX's credentials only to %s",
				l.ID, transport.Redact(link.String()), st, transport.OriginOf(c.data))
		}
		return nil, err
	}
	tooLarge := fmt.Errorf("call %s: the PBX sends more than %d bytes for its recording: stopped (%w)", l.ID, c.maxRec, transport.ErrTooLarge)
	if resp.ContentLength > c.maxRec {
		_ = resp.Body.Close() // not read: its size alone refuses it
		return nil, tooLarge
	}
	out, err := cdr.PeekRecording(transport.CapBody(resp.Body, c.maxRec, tooLarge), safeName(u.Path), resp.ContentLength)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, cdr.NoRecordingError(l)
	}
	return out, nil
}

// safeName reduces a URL path to a base name that is safe as a file name.
func safeName(p string) string {
	name := path.Base(p)
	if un, err := url.PathUnescape(name); err == nil {
		name = un
	}
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, name)
	if name == "." || name == ".." || name == "/" || name == "" {
		return ""
	}
	return name
}
