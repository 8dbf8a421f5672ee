package profile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/callscope/callscope/client/cdr"
)

// Kinds of password source.
const (
	SourceNone    = ""
	SourceURL     = "url"     // user:pass@ in a URL given by flag or environment (or a profile that insists)
	SourceEnv     = "env"     // an environment variable
	SourceCommand = "command" // the first line a command prints
	SourceKeyring = "keyring" // the OS keyring
	SourceFile    = "file"    // clear text in the config file (plaintext_password_ok)
)

// KeyringService is the service name callscope's keyring entries are stored under; the key is the profile name.
const KeyringService = "callscope"

// DefaultCommandTimeout is how long a password_cmd may take: long enough for a person to answer a pinentry
// dialog, short enough that a hung helper does not hang callscope for ever.
const DefaultCommandTimeout = 60 * time.Second

// keyringTimeout bounds a keyring call: a Secret Service that is present but does not answer must not hang us.
const keyringTimeout = 15 * time.Second

// maxCommandOutput bounds what a password_cmd may print; only the first line is used.
const maxCommandOutput = 64 << 10

// PasswordSource is where a password will come from. It holds no secret that String or %v would show; Get
// fetches the password.
type PasswordSource struct {
	Kind     string
	From     string        // where this source was set: "--url", "$CALLSCOPE_PASSWORD", "profile office"
	Env      string        // SourceEnv: the variable's name
	Command  string        // SourceCommand: run with sh -c (cmd /C on Windows)
	Timeout  time.Duration // SourceCommand
	Key      string        // SourceKeyring: the entry's key (the profile name)
	Implicit bool          // SourceKeyring tried because the profile names no source: no entry is not an error

	value  cdr.Secret // SourceURL, SourceFile
	getenv func(string) string
}

// String describes the source for people, never the password: what it is and where it was set.
func (p PasswordSource) String() string {
	s := p.Describe()
	if p.From != "" && p.From != "$"+p.Env {
		s += ", from " + p.From
	}
	return s
}

// Describe says what the source is, without where it was set.
func (p PasswordSource) Describe() string {
	switch p.Kind {
	case SourceNone:
		return "none given (asked for on a terminal)"
	case SourceURL:
		return "in the URL"
	case SourceEnv:
		s := "environment variable $" + p.Env
		if p.lookupEnv() == "" {
			s += " (not set now)"
		}
		return s
	case SourceCommand:
		return "output of password_cmd `" + p.Command + "`"
	case SourceKeyring:
		s := fmt.Sprintf("OS keyring (service %q, key %q)", KeyringService, p.Key)
		if p.Implicit {
			s += " if it has an entry, else asked for on a terminal"
		}
		return s
	case SourceFile:
		return "clear text in the config file (plaintext_password_ok)"
	}
	return p.Kind
}

// GoString keeps %#v from reaching the value field.
func (p PasswordSource) GoString() string { return "profile.PasswordSource{" + p.String() + "}" }

func (p PasswordSource) lookupEnv() string {
	getenv := p.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return getenv(p.Env)
}

// IO is what a password command may use: stdin for a helper that asks the user (pinentry on a terminal), and
// stderr for its messages, passed through so a failure explains itself.
type IO struct {
	Stdin  io.Reader
	Stderr io.Writer
}

// Get fetches the password. An empty Secret with a nil error means there is none (no source, or an implicit
// keyring lookup that found no entry or no keyring): the caller may prompt.
func (p PasswordSource) Get(ctx context.Context, pio IO) (cdr.Secret, error) {
	switch p.Kind {
	case SourceNone:
		return "", nil
	case SourceURL, SourceFile:
		return p.value, nil
	case SourceEnv:
		v := p.lookupEnv()
		if v == "" {
			return "", fmt.Errorf("the password should come from $%s (%s), which is not set: export it, or change the profile", p.Env, p.From)
		}
		return cdr.Secret(v), nil
	case SourceCommand:
		return RunPasswordCommand(ctx, p.Command, p.Timeout, pio)
	case SourceKeyring:
		pw, err := KeyringGet(p.Key)
		if p.Implicit && (errors.Is(err, ErrNoKeyringEntry) || errors.Is(err, ErrKeyringUnavailable)) {
			return "", nil
		}
		return pw, err
	}
	return "", fmt.Errorf("unknown password source %q", p.Kind)
}

// RunPasswordCommand runs command with the platform's shell and returns the first line it prints, as git's
// credential helpers are run. Its stderr goes to pio.Stderr, so the helper's own message explains a failure;
// our error says which command failed and how, never what it printed on stdout.
func RunPasswordCommand(ctx context.Context, command string, timeout time.Duration, pio IO) (cdr.Secret, error) {
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(ctx, "cmd", "/C", command)
	} else {
		cmd = exec.CommandContext(ctx, "sh", "-c", command)
	}
	// The shell is killed on timeout; a grandchild it started may keep the pipes open, so stop waiting for them
	// shortly after instead of hanging with it.
	cmd.WaitDelay = time.Second
	cmd.Stdin = pio.Stdin
	if pio.Stderr != nil {
		cmd.Stderr = pio.Stderr
	}
	var out limitedBuffer
	out.max = maxCommandOutput
	cmd.Stdout = &out
	err := cmd.Run()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return "", fmt.Errorf("password_cmd `%s` did not finish within %s: check it runs on its own, or raise password_cmd_timeout", command, timeout)
	case ctx.Err() != nil:
		return "", ctx.Err()
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("password_cmd `%s` failed (%s): see its message above, and run it yourself to check", command, ee.ProcessState.String())
		}
		if errors.Is(err, exec.ErrWaitDelay) {
			break // the command exited 0; only a background child kept stdout open
		}
		return "", fmt.Errorf("password_cmd `%s` could not run: %v", command, err)
	}
	line, _, _ := bufio.NewReader(bytes.NewReader(out.Bytes())).ReadLine()
	pw := strings.TrimRight(string(line), "\r")
	if pw == "" {
		return "", fmt.Errorf("password_cmd `%s` printed nothing on its first line: it should print the password", command)
	}
	return cdr.Secret(pw), nil
}

// limitedBuffer keeps the first max bytes and discards the rest (without failing the writer, which would make
// the command see a broken pipe).
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}

// Keyring errors, told apart with errors.Is.
var (
	ErrNoKeyringEntry     = errors.New("no keyring entry")
	ErrKeyringUnavailable = errors.New("OS keyring not available")
)

// KeyringError says what went wrong with the keyring, in one line, and what to do instead.
type KeyringError struct {
	Key    string
	Reason string
	Kind   error // ErrNoKeyringEntry or ErrKeyringUnavailable
}

func (e *KeyringError) Error() string {
	if e.Kind == ErrNoKeyringEntry {
		return fmt.Sprintf("the OS keyring has no password for profile %s: store one with `callscope config set-password %s`", e.Key, e.Key)
	}
	return fmt.Sprintf("the OS keyring is not available (%s): use password_cmd or password_env in the profile instead", e.Reason)
}

func (e *KeyringError) Unwrap() error { return e.Kind }

// KeyringGet reads profile key's password from the OS keyring.
func KeyringGet(key string) (cdr.Secret, error) {
	var pw string
	err := withKeyringTimeout(func() error {
		var err error
		pw, err = keyring.Get(KeyringService, key)
		return err
	})
	if err != nil {
		return "", keyringError(key, err)
	}
	return cdr.Secret(pw), nil
}

// KeyringSet stores profile key's password in the OS keyring.
func KeyringSet(key string, pw cdr.Secret) error {
	if !pw.IsSet() {
		return errors.New("an empty password was not stored")
	}
	err := withKeyringTimeout(func() error { return keyring.Set(KeyringService, key, pw.Reveal()) })
	if err != nil {
		return keyringError(key, err)
	}
	return nil
}

// KeyringDelete removes profile key's password from the OS keyring; a missing entry is not an error.
func KeyringDelete(key string) error {
	err := withKeyringTimeout(func() error { return keyring.Delete(KeyringService, key) })
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return keyringError(key, err)
	}
	return nil
}

var errKeyringTimeout = fmt.Errorf("no answer within %s", keyringTimeout)

// withKeyringTimeout runs fn, giving up after keyringTimeout. The library has no context; a call that never
// returns leaves a goroutine behind, which a command line tool about to exit can afford.
func withKeyringTimeout(fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(keyringTimeout):
		return errKeyringTimeout
	}
}

func keyringError(key string, err error) error {
	if errors.Is(err, keyring.ErrNotFound) {
		return &KeyringError{Key: key, Kind: ErrNoKeyringEntry}
	}
	return &KeyringError{Key: key, Reason: keyringReason(err), Kind: ErrKeyringUnavailable}
}

// keyringReason says in a few words why the keyring failed. The library's errors come from D-Bus, the macOS
// security tool or the Windows credential API; none carries the password.
func keyringReason(err error) string {
	msg := oneLine(err.Error())
	switch {
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return "not supported on this system"
	case strings.Contains(msg, "org.freedesktop.secrets"), strings.Contains(msg, "ServiceUnknown"):
		return "no Secret Service (such as GNOME Keyring or KeePassXC) is running on D-Bus"
	case runtime.GOOS != "darwin" && runtime.GOOS != "windows":
		// Everything else on Linux and the BSDs is D-Bus failing: no session bus (a server, CI, ssh without a
		// desktop session) or one that cannot be reached.
		return "cannot reach a Secret Service over D-Bus: " + shorten(msg)
	}
	return shorten(msg)
}

func shorten(msg string) string {
	if len(msg) > 160 {
		return msg[:160] + "…"
	}
	return msg
}
