// Package connect turns connection settings (from flags, environment or a profile) into a cdr.Source, so the
// command line and the TUI open a Com.X, a Difuse or an archive the same way.
package connect

import (
	"fmt"
	"strings"
	"time"

	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/comx"
	"github.com/callscope/callscope/client/difuse"
	"github.com/callscope/callscope/client/transport"
)

// Settings say how to reach a PBX.
type Settings struct {
	Kind     string // comx (default) or difuse
	URL      string // base URL or full endpoint; may carry user:pass@
	User     string
	Password cdr.Secret
	Zone     *time.Location // nil = infer
	Timeout  time.Duration
	CAFile   string
	Insecure bool // skip TLS checks; the caller warns the user
	Extended bool // Com.X: always ask for the extended fields (friendly name, account code, channels)
	// Difuse only.
	KeyParam    bool // send the key as a query parameter (discouraged)
	Hashed      bool // Password is already the hex SHA-256 of the secret
	Parallel    int
	Limit       int
	Warn        func(string)
	MaxZipBytes int64
}

// Open builds the Source the settings describe. Credentials in the URL are taken out of it; a user or password
// given separately wins over the URL's.
func Open(s Settings) (cdr.Source, error) {
	ep, err := transport.ParseEndpoint(s.URL)
	if err != nil {
		return nil, err
	}
	if s.User != "" {
		ep.User = s.User
	}
	if s.Password.IsSet() {
		ep.Password = s.Password
	}
	// Insecure is warned about by the caller, which knows where the setting came from (a flag, a variable, a
	// profile); the warnings here are the ones only the clients can give.
	warn := s.Warn
	if warn == nil {
		warn = func(string) {}
	}
	switch strings.ToLower(s.Kind) {
	case "", cdr.KindComX:
		return comx.New(comx.Config{Endpoint: ep, Zone: s.Zone, Timeout: s.Timeout, CAFile: s.CAFile,
			Insecure: s.Insecure, MaxZipBytes: s.MaxZipBytes, Extended: s.Extended})
	case cdr.KindDifuse:
		return difuse.New(difuse.Config{Endpoint: ep, Hashed: s.Hashed, KeyParam: s.KeyParam, Zone: s.Zone,
			Timeout: s.Timeout, CAFile: s.CAFile, Insecure: s.Insecure, Parallel: s.Parallel, Limit: s.Limit,
			Warn: warn})
	}
	return nil, fmt.Errorf("unknown PBX kind %q: use comx or difuse", s.Kind)
}
