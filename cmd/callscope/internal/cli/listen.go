package cli

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/callscope/callscope/client/archive"
	"github.com/callscope/callscope/client/cdr"
	"github.com/callscope/callscope/client/listen"
)

// listenGrace is how long a shutdown waits for pushes under way to be stored and answered.
const listenGrace = 30 * time.Second

func (a *app) listenCommand() *cobra.Command {
	var (
		addr, dir                         string
		keyFile, bearerFile, passwordFile string
		user                              string
		maxBody, memBudget                int64
		tlsCert, tlsKey                   string
	)
	c := &cobra.Command{
		Use:   "listen",
		Short: "Receive the CDR entries a Difuse PBX pushes, into an archive",
		Long: `listen accepts the entries a Difuse PBX sends with "CDR Log To API" (PBX > Settings > Extra
Configurations), POST or PUT, and stores them in the archive in --dir, one row per call ID. Set the same
credential here as on the PBX, from the environment or a file (never on the command line):

  API key       CALLSCOPE_LISTEN_API_KEY or --api-key-file FILE     (the PBX sends it as x-api-key)
  Bearer token  CALLSCOPE_LISTEN_BEARER or --bearer-file FILE
  Basic auth    --user NAME (or CALLSCOPE_LISTEN_USER) with CALLSCOPE_LISTEN_PASSWORD or --password-file FILE

Keys, tokens and passwords must be at least 16 characters (openssl rand -hex 16 makes one).

Give --tls-cert and --tls-key to receive over HTTPS: without them the credential and the calls cross the
network in clear, and callscope warns when it listens beyond this machine without TLS.

An entry is answered 2xx only once it is stored; Ctrl-C (or SIGTERM) stops taking pushes and finishes those
under way. The bodies held at once are bounded by --memory-budget: a push over it is answered 503 with
Retry-After, and the PBX sends it again. Browse what arrived with --archive DIR.`,
		Example: `  CALLSCOPE_LISTEN_API_KEY=… callscope listen --addr :8443 --dir ~/calls --tls-cert pbx-push.crt --tls-key pbx-push.key
  callscope listen --addr 127.0.0.1:9000 --dir ~/calls --bearer-file /etc/callscope/push-token`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) (err error) {
			if dir == "" {
				return usagef("say where the archive is with --dir DIR")
			}
			if (tlsCert == "") != (tlsKey == "") {
				return usagef("HTTPS needs both --tls-cert and --tls-key")
			}
			var auth listen.Auth
			if auth.APIKey, err = secretFrom("CALLSCOPE_LISTEN_API_KEY", keyFile, "--api-key-file"); err != nil {
				return err
			}
			if auth.Bearer, err = secretFrom("CALLSCOPE_LISTEN_BEARER", bearerFile, "--bearer-file"); err != nil {
				return err
			}
			if user == "" {
				user = os.Getenv("CALLSCOPE_LISTEN_USER")
			}
			auth.User = user
			if auth.Password, err = secretFrom("CALLSCOPE_LISTEN_PASSWORD", passwordFile, "--password-file"); err != nil {
				return err
			}
			if auth.Password.IsSet() && user == "" {
				return usagef("a listen password is set but no user: give it with --user")
			}
			if !auth.Configured() {
				return usagef("listen needs the credential the PBX sends: set CALLSCOPE_LISTEN_API_KEY, CALLSCOPE_LISTEN_BEARER, or --user with CALLSCOPE_LISTEN_PASSWORD (or the --…-file flags)")
			}
			loc, err := a.location()
			if err != nil {
				return err
			}
			arch, err := archive.InitContext(c.Context(), dir) // Ctrl-C stops an upgrade of an old archive
			if err != nil {
				return err
			}
			defer func() {
				if cerr := arch.Close(); err == nil {
					err = cerr // it was written to: its Close is the last word on that
				}
			}()
			if loc != nil && arch.Location() == nil {
				if err := arch.SetZone(c.Context(), loc, false); err != nil {
					return err
				}
			}
			if !c.Flags().Changed("memory-budget") {
				memBudget = 0 // the default, raised to fit a --max-body above it
			}
			rcv, err := listen.New(arch, listen.Options{Auth: auth, MaxBody: maxBody, MemoryBudget: memBudget, Zone: loc,
				Log: func(s string) { fmt.Fprintln(a.stderr, "callscope: "+oneLine(s)) }})
			if err != nil {
				return usageError{err}
			}
			var cert tls.Certificate
			if tlsCert != "" {
				if cert, err = listen.LoadCertificate(tlsCert, tlsKey); err != nil {
					return err
				}
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("cannot listen on %s: %w", addr, err)
			}
			scheme := "https"
			if tlsCert == "" {
				scheme = "http"
				if !listen.Loopback(ln.Addr()) {
					a.warn(fmt.Sprintf("listening on %s over plain HTTP, reachable beyond this machine: the PBX's credential and the calls cross the network in clear; give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS proxy", ln.Addr()))
				}
			}
			a.info(fmt.Sprintf("listening on %s (%s) for CDR pushes; storing them in %s (Ctrl-C stops)", ln.Addr(), scheme, arch.Dir()))
			if tlsCert != "" {
				err = listen.ServeTLS(c.Context(), ln, rcv, listenGrace, cert)
			} else {
				err = listen.Serve(c.Context(), ln, rcv, listenGrace)
			}
			a.info(fmt.Sprintf("stopped; %s received", plural(int(rcv.Received()), "entry", "entries")))
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&addr, "addr", ":8080", "address to listen on")
	f.StringVar(&dir, "dir", "", "the archive folder (made if missing)")
	f.StringVar(&keyFile, "api-key-file", "", "file holding the API key the PBX sends as x-api-key")
	f.StringVar(&bearerFile, "bearer-file", "", "file holding the Bearer token the PBX sends")
	f.StringVar(&user, "user", "", "Basic auth user the PBX sends (password: CALLSCOPE_LISTEN_PASSWORD or --password-file)")
	f.StringVar(&passwordFile, "password-file", "", "file holding the Basic auth password")
	f.Int64Var(&maxBody, "max-body", listen.DefaultMaxBody, "largest push accepted, in bytes (larger ones get 413)")
	f.Int64Var(&memBudget, "memory-budget", listen.DefaultMemoryBudget, "bytes of push bodies held at once (pushes over it get 503 with Retry-After)")
	f.StringVar(&tlsCert, "tls-cert", "", "PEM certificate (with its chain) to receive over HTTPS")
	f.StringVar(&tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	return c
}

// secretFrom reads a credential from a file (when the flag names one) or the environment. A file that other
// users can read is refused, as ssh refuses such a key.
func secretFrom(env, file, flag string) (cdr.Secret, error) {
	if file == "" {
		return cdr.Secret(os.Getenv(env)), nil
	}
	st, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s: %s can be read by other users (mode %o): run chmod 600 %s", flag, file, st.Mode().Perm(), file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s: %s is empty", flag, file)
	}
	return cdr.Secret(s), nil
}
