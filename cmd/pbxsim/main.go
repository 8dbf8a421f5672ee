// Command pbxsim serves a simulated PBX: the Com.X HTTP CDR API (/commagui/cdr) and the Difuse CDR API
// (/pbx/cdr/data) over one set of generated or directory-loaded calls, with switches to inject faults.
//
//	go run ./cmd/pbxsim --addr 127.0.0.1:8080 --days 30 --per-day 200
//	go run ./cmd/pbxsim --data DIR
//	go run ./cmd/pbxsim --now 2014-03-28T12:00        # a PBX whose clock is in 2014 (it advances from there)
//	go run ./cmd/pbxsim --write-index /tmp/index.txt --days 3650 --per-day 400
//
// Passwords come from PBXSIM_COMX_PASSWORD and PBXSIM_DIFUSE_SECRET (never flags, so they stay out of the
// process list); without them the defaults are used and printed.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/callscope/callscope/client/outfile"
	"github.com/callscope/callscope/client/pbxsim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pbxsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o        pbxsim.Options
		end, tz  string
		now      string
		quiet    bool
		writeIdx string
		extended bool
		order    string
	)
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.DataDir, "data", "", "serve this directory's index.txt and recordings instead of generated calls")
	fs.StringVar(&o.RecordingsDir, "recordings", "", "directory of .gsm/.wav files for generated calls (default: the repository's testdata/recordings, else synthesized)")
	fs.IntVar(&o.Days, "days", pbxsim.DefaultDays, "days of generated calls")
	fs.IntVar(&o.CallsPerDay, "per-day", pbxsim.DefaultCallsPerDay, "generated calls on an ordinary weekday")
	fs.Int64Var(&o.Seed, "seed", 1, "generator seed: the same seed and options give the same data")
	fs.StringVar(&end, "end", "", "last generated day, YYYY-MM-DD (default: today, up to now)")
	fs.StringVar(&tz, "tz", pbxsim.DefaultZone, "the PBX's time zone (IANA name)")
	fs.StringVar(&now, "now", "", "the PBX's clock: a time in its zone (2014-03-28T12:00) or a shift from this computer's (-8h, +5h); it stamps the Date header and hides calls that had not ended by then (default: this computer's clock, every call served)")
	fs.BoolVar(&o.FrozenClock, "frozen", false, "with --now: the PBX's clock stands still instead of advancing in real time")
	fs.StringVar(&o.ComxUser, "comx-user", pbxsim.DefaultComxUser, "Com.X Basic auth user (password: PBXSIM_COMX_PASSWORD)")
	fs.StringVar(&o.DifuseExtension, "difuse-ext", pbxsim.DefaultDifuseExtension, "Difuse extension with CDR access (secret: PBXSIM_DIFUSE_SECRET)")
	fs.StringVar(&order, "difuse-order", "end", "order Difuse pages its rows in: end (as calls hang up, like Asterisk) or start (an imported history)")
	fs.BoolVar(&o.NoExtendedLicence, "no-extended-licence", false, "answer &extended with 11 fields, like a PBX without the licence")
	fs.BoolVar(&o.CRLF, "crlf", false, "end index lines with CRLF")
	fs.BoolVar(&o.BOM, "bom", false, "start the txt index with a UTF-8 BOM")
	fs.DurationVar(&o.Faults.Latency, "latency", 0, "fault: wait this long before every answer")
	fs.BoolVar(&o.Faults.Stall, "stall", false, "fault: accept requests and never answer")
	fs.BoolVar(&o.Faults.Unauthorized, "unauthorized", false, "fault: answer every request with 401")
	fs.IntVar(&o.Faults.ServerErrorEvery, "error-every", 0, "fault: answer every Nth request with 500 (1: all)")
	fs.Int64Var(&o.Faults.CutAfterBytes, "cut-after", 0, "fault: drop the connection after N body bytes")
	fs.IntVar(&o.Faults.MalformedEvery, "malformed-every", 0, "fault: make every Nth index line malformed")
	fs.BoolVar(&o.Faults.TruncateZip, "truncate-zip", false, "fault: leave the central directory off ziprec archives")
	fs.BoolVar(&o.Faults.DifuseNoTotal, "difuse-no-total", false, "fault: send no total_pages and answer pages past the last with the last page")
	fs.StringVar(&o.Push.URL, "push-url", "", "push calls as they end to this URL, as Difuse's CDR Log To API does (auth: PBXSIM_PUSH_API_KEY, PBXSIM_PUSH_BEARER, PBXSIM_PUSH_USER/PBXSIM_PUSH_PASSWORD)")
	fs.DurationVar(&o.Push.Every, "push-every", pbxsim.DefaultPushEvery, "with --push-url: how often to push")
	fs.BoolVar(&quiet, "quiet", false, "do not log requests")
	fs.StringVar(&writeIdx, "write-index", "", "write the generated index to FILE (- for stdout) and exit")
	fs.BoolVar(&extended, "extended", true, "with --write-index: write the 15-field extended index")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pbxsim: unexpected argument %q; see pbxsim --help\n", fs.Arg(0))
		return 2
	}
	var err error
	if o.DifuseOrder, err = pbxsim.ParseRowOrder(order); err != nil {
		fmt.Fprintf(stderr, "pbxsim: --difuse-order: %v\n", err)
		return 2
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		fmt.Fprintf(stderr, "pbxsim: unknown time zone %q: use an IANA name such as Africa/Johannesburg\n", tz)
		return 2
	}
	o.Zone = loc
	if end != "" {
		t, err := time.ParseInLocation("2006-01-02", end, loc)
		if err != nil {
			fmt.Fprintf(stderr, "pbxsim: cannot read --end %q: use YYYY-MM-DD\n", end)
			return 2
		}
		o.End = t
	}
	if now != "" {
		t, err := parseNow(now, loc, time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "pbxsim: %v\n", err)
			return 2
		}
		o.Now = t
	} else if o.FrozenClock {
		fmt.Fprintln(stderr, "pbxsim: --frozen needs --now (the time the PBX's clock stands at)")
		return 2
	}
	o.ComxPassword = os.Getenv("PBXSIM_COMX_PASSWORD")
	o.DifuseSecret = os.Getenv("PBXSIM_DIFUSE_SECRET")
	o.Push.APIKey, o.Push.Bearer = os.Getenv("PBXSIM_PUSH_API_KEY"), os.Getenv("PBXSIM_PUSH_BEARER")
	o.Push.User, o.Push.Password = os.Getenv("PBXSIM_PUSH_USER"), os.Getenv("PBXSIM_PUSH_PASSWORD")
	if u, err := url.Parse(o.Push.URL); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			fmt.Fprintln(stderr, "pbxsim: warning: the password in --push-url can be read by every user of this machine in the process list (ps): use PBXSIM_PUSH_USER and PBXSIM_PUSH_PASSWORD instead")
		}
	}
	if !quiet {
		o.Log = stderr
	}

	if writeIdx != "" {
		o.Log = nil
		s, err := pbxsim.New(o)
		if err != nil {
			fmt.Fprintf(stderr, "pbxsim: %v\n", err)
			return 1
		}
		return writeIndex(s, writeIdx, extended, stdout, stderr)
	}

	srv, err := pbxsim.Start(o)
	if err != nil {
		fmt.Fprintf(stderr, "pbxsim: %v\n", err)
		return 1
	}
	eff := srv.Options()
	fmt.Fprintf(stdout, "pbxsim: %d calls, %d days ending %s (%s)\n", srv.Total(), eff.Days,
		eff.End.In(eff.Zone).Format("2006-01-02 15:04"), eff.Zone)
	if srv.ClockSet() {
		how := "advancing in real time"
		if eff.FrozenClock {
			how = "frozen"
		}
		fmt.Fprintf(stdout, "  PBX clock %s (%s); %d calls had ended by then\n",
			srv.Now().Format("2006-01-02 15:04:05 -07:00"), how, srv.Visible())
	}
	fmt.Fprintf(stdout, "  Com.X   %s/commagui/cdr  user %s, password %s\n", srv.URL(), eff.ComxUser, shown(eff.ComxPassword, "PBXSIM_COMX_PASSWORD", pbxsim.DefaultComxPassword))
	fmt.Fprintf(stdout, "  Difuse  %s/pbx/cdr/data  extension %s, secret %s\n", srv.URL(), eff.DifuseExtension, shown(eff.DifuseSecret, "PBXSIM_DIFUSE_SECRET", pbxsim.DefaultDifuseSecret))
	users := srv.Users()
	fmt.Fprintf(stdout, "  %d extensions:", len(users))
	for i, u := range users {
		if i == 6 {
			fmt.Fprint(stdout, " …")
			break
		}
		fmt.Fprintf(stdout, " %s %q", u.Extension, u.Name)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "  try: curl -u %s:PASSWORD '%s/commagui/cdr?format=txt&extended'\n", eff.ComxUser, srv.URL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-sig:
	case <-srv.Stopped():
	}
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "pbxsim: %v; start it again\n", err)
		return 1
	}
	return 0
}

// parseNow reads --now: a wall-clock time in the PBX's zone, or a signed shift from this computer's clock.
func parseNow(v string, loc *time.Location, here time.Time) (time.Time, error) {
	if v[0] == '+' || v[0] == '-' {
		d, err := time.ParseDuration(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("cannot read --now %q: give a time (2014-03-28T12:00) or a shift such as -8h or +5h", v)
		}
		return here.Add(d), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read --now %q: give a time (2014-03-28T12:00) or a shift such as -8h or +5h", v)
}

// shown prints a default password (it is public, in the spec or our docs) but never one set by the user.
func shown(pw, env, def string) string {
	if pw == def {
		return def + " (default; set " + env + ")"
	}
	return "from " + env
}

func writeIndex(s *pbxsim.Sim, path string, extended bool, stdout, stderr io.Writer) int {
	write := func(out io.Writer) error {
		bw := bufio.NewWriterSize(out, 256<<10)
		if err := s.WriteIndex(bw, time.Time{}, time.Time{}, extended); err != nil {
			return err
		}
		return bw.Flush()
	}
	var err error
	if path == "-" {
		err = write(stdout)
	} else {
		// The same rules as callscope's -o: a file atomically, a link's target, a FIFO written into.
		err = outfile.Write(context.Background(), path, write)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pbxsim: writing index: %v\n", err)
		return 1
	}
	if path != "-" {
		fmt.Fprintf(stderr, "pbxsim: wrote %d calls to %s\n", s.Total(), path)
	}
	return 0
}
