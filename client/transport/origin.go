package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Origin is where credentials may go: a scheme, a host and a port. The default port is written out, so
// https://pbx and https://pbx:443 are one origin, and http://pbx (port 80) is another.
type Origin struct {
	Scheme string // http or https
	Host   string // lower case; an IPv6 address without brackets
	Port   string
}

// OriginOf is u's origin.
func OriginOf(u *url.URL) Origin {
	o := Origin{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Hostname()), Port: u.Port()}
	if o.Port == "" {
		switch o.Scheme {
		case "http":
			o.Port = "80"
		case "https":
			o.Port = "443"
		}
	}
	return o
}

// String is the origin as a URL: https://pbx:8443, http://[::1]:80.
func (o Origin) String() string { return o.Scheme + "://" + o.hostPort() }

func (o Origin) hostPort() string { return net.JoinHostPort(o.Host, o.Port) }

// Link is how a URL a PBX handed out (a Difuse recording_url) relates to the PBX's configured origin, which
// decides whether it may be sent credentials.
type Link int

const (
	// OnOrigin: the same scheme, host and port; credentials go with it.
	OnOrigin Link = iota
	// Upgraded: plain http on the host of an https PBX. The same path on the PBX's https origin is asked for
	// instead, with credentials over TLS; the http URL itself is never sent them.
	Upgraded
	// Elsewhere: another host, port or scheme. No credential goes with it.
	Elsewhere
)

// PlaceLink decides how to fetch link, a URL handed out by the PBX whose configured URL is base. It returns
// the URL to ask for (link itself, or its https form on base's origin for Upgraded) and how it relates.
func PlaceLink(base, link *url.URL) (*url.URL, Link) {
	bo, lo := OriginOf(base), OriginOf(link)
	switch {
	case bo == lo:
		return link, OnOrigin
	case bo.Scheme == "https" && lo.Scheme == "http" && bo.Host == lo.Host:
		u := *link
		u.Scheme, u.Host = base.Scheme, base.Host
		return &u, Upgraded
	}
	return link, Elsewhere
}

// OffOriginError is a request with credentials for an address other than the configured PBX's. It is refused
// before anything is sent.
type OffOriginError struct {
	URL    string  // redacted
	Origin *Origin // nil when the client was given none
}

func (e *OffOriginError) Error() string {
	if e.Origin == nil {
		return fmt.Sprintf("not sending credentials to %s: no PBX address was configured for them", e.URL)
	}
	return fmt.Sprintf("not sending the PBX's credentials to %s: they go only to %s", e.URL, e.Origin)
}

// RedirectError is a redirect that was not followed, and why. Suggest is the origin the PBX sent the request
// to when that may be the PBX's real address (a redirect with credentials to another address): configuring it
// would be the remedy, if the user trusts it; "" otherwise.
type RedirectError struct {
	Msg     string
	Suggest string
}

func (e *RedirectError) Error() string { return e.Msg }

// Unwrap lets errors.Is(err, ErrRedirectRefused) find it.
func (e *RedirectError) Unwrap() error { return ErrRedirectRefused }

// credentialsKey marks a request's context with the credentials it carries, for the redirect check.
type credentialsKey struct{}

type sentCredentials struct {
	authorization string
	query         url.Values
}

// checkRedirect decides whether to follow a redirect. Nothing is ever followed from https to plain http. A
// request that carries credentials follows redirects only within the configured origin (and takes its
// credentials along); one without follows them only on the host it went to.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	first, prev := via[0], via[len(via)-1]
	host := first.URL.Host
	if len(via) >= 5 {
		return &RedirectError{Msg: fmt.Sprintf("pbx %s: more than 5 redirects; not following", host)}
	}
	target := Redact(req.URL.String())
	if strings.EqualFold(prev.URL.Scheme, "https") && !strings.EqualFold(req.URL.Scheme, "https") {
		return &RedirectError{Msg: fmt.Sprintf("pbx %s redirected from https to plain http (%s); not following, so nothing goes in clear",
			host, target)}
	}
	creds, _ := req.Context().Value(credentialsKey{}).(*sentCredentials)
	if creds == nil {
		if !strings.EqualFold(req.URL.Host, first.URL.Host) {
			return &RedirectError{Msg: fmt.Sprintf("pbx %s redirected to another host (%s); not following", host, target)}
		}
		req.Header.Del("Authorization")
		return nil
	}
	if to := OriginOf(req.URL); c.origin == nil || to != *c.origin {
		return &RedirectError{Msg: fmt.Sprintf("pbx %s redirected to %s, another address than the configured %s; not following with credentials",
			host, target, c.originOrNone()), Suggest: to.String()}
	}
	if creds.authorization != "" {
		req.Header.Set("Authorization", creds.authorization)
	}
	if len(creds.query) > 0 {
		req.URL.RawQuery = withQuery(req.URL.RawQuery, creds.query)
	}
	return nil
}

// ErrRedirectRefused marks a redirect that was not followed.
var ErrRedirectRefused = errors.New("redirect refused")

// withQuery sets the values of add in the raw query q.
func withQuery(q string, add url.Values) string {
	v, err := url.ParseQuery(q)
	if err != nil {
		v = url.Values{}
	}
	for k, vals := range add {
		v[k] = vals
	}
	return v.Encode()
}

func withCredentials(ctx context.Context, creds *sentCredentials) context.Context {
	return context.WithValue(ctx, credentialsKey{}, creds)
}
