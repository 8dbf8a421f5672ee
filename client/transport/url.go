package transport

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/callscope/callscope/client/cdr"
)

// Endpoint is a PBX address split from any credentials the user put in it.
type Endpoint struct {
	URL      *url.URL // scheme, host and path; no user info
	User     string
	Password cdr.Secret
	HasPass  bool // the URL carried a password (user:pass@host)
}

// ParseEndpoint reads a PBX URL as the user typed it: `10.0.0.5`, `http://pbx_ip`, `https://host:8443`,
// `http://user:pass@pbx_ip/commagui/cdr`. A missing scheme means http. The credentials are taken out of the URL
// so nothing that prints the URL can print them. An empty one is ErrNoURL.
func ParseEndpoint(raw string) (Endpoint, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Endpoint{}, ErrNoURL
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Endpoint{}, fmt.Errorf("cannot read PBX URL %q: use the form http://PBX_ADDRESS", Redact(raw))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Endpoint{}, fmt.Errorf("PBX URL scheme %q: use http or https", u.Scheme)
	}
	ep := Endpoint{}
	if u.User != nil {
		ep.User = u.User.Username()
		if p, ok := u.User.Password(); ok {
			ep.Password, ep.HasPass = cdr.Secret(p), true
		}
		u.User = nil
	}
	u.Fragment = ""
	ep.URL = u
	return ep, nil
}

// WithPath returns base with its path replaced by (or, if base already ends with it, kept as) path.
func WithPath(base *url.URL, path string) *url.URL {
	u := *base
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, path) {
		p += path
	}
	u.Path = p
	u.RawQuery = ""
	return &u
}

// Redact removes user info and any `key=` query value from a URL string, for messages and logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.Index(raw, "@"); i >= 0 {
			if j := strings.Index(raw, "://"); j >= 0 && j < i {
				return raw[:j+3] + "[redacted]@" + raw[i+1:]
			}
		}
		return raw
	}
	if u.User != nil {
		u.User = url.User("[redacted]")
	}
	q := u.Query()
	if q.Has("key") {
		q.Set("key", "[redacted]")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
