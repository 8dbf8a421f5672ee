//go:build linux

// Package pulsetest starts a private PulseAudio server with a null sink for
// tests, so the real pulse backend can be exercised on machines (and CI
// runners) without a sound card.
package pulsetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SinkName is the null sink the server plays into; its monitor source,
// SinkName+".monitor", carries what was played.
const SinkName = "callscope_test"

// Server is a running private PulseAudio daemon.
type Server struct {
	// Address is the PULSE_SERVER string for the server's socket.
	Address string
	cmd     *exec.Cmd
}

// Start launches pulseaudio with its own runtime directory and points
// PULSE_SERVER at it for the rest of the test. The test is skipped when the
// pulseaudio binary is missing. The daemon is killed by PID on cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("pulseaudio")
	if err != nil {
		t.Skip("pulseaudio is not installed (apt-get install pulseaudio); skipping the real PulseAudio backend test")
	}
	dir, err := os.MkdirTemp("", "callscope-pulse-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "native")
	cmd := exec.Command(bin,
		"--daemonize=no", "--system=false", "--exit-idle-time=-1", "--disallow-exit",
		"--use-pid-file=no", "-n", "--log-target=stderr",
		"--load=module-null-sink sink_name="+SinkName,
		"--load=module-native-protocol-unix auth-anonymous=1 socket="+sock,
	)
	// pulseaudio refuses to run as root without its own HOME and runtime
	// path; a private directory also keeps it away from any desktop server.
	cmd.Env = append(os.Environ(),
		"HOME="+dir, "PULSE_RUNTIME_PATH="+dir, "XDG_RUNTIME_DIR="+dir,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "DBUS_SESSION_BUS_ADDRESS=disabled:")
	var log strings.Builder
	cmd.Stderr = &log
	cmd.Stdout = &log
	// CALLSCOPE_PULSE_LOG=file keeps the daemon's verbose log for debugging.
	if path := os.Getenv("CALLSCOPE_PULSE_LOG"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := f.Close(); err != nil {
				t.Errorf("the PulseAudio log %s may be incomplete: %v", path, err)
			}
		})
		cmd.Args = append(cmd.Args, "-vvvv")
		cmd.Stderr, cmd.Stdout = f, f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pulseaudio: %v", err)
	}
	s := &Server{Address: "unix:" + sock, cmd: cmd}
	t.Cleanup(func() {
		// Resume first in case a test left it stopped, then kill by PID.
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing the PulseAudio runtime directory: %v", err)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pulseaudio did not create %s within 5s; its log:\n%s", sock, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Setenv("PULSE_SERVER", s.Address)
	t.Setenv("HOME", dir) // the client looks for a cookie there; anonymous auth needs none
	return s
}

// Freeze stops the server process (SIGSTOP), as a wedged sound daemon would.
func (s *Server) Freeze() error { return s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	if err := syscall.Kill(s.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("signal pulseaudio %d: %w", s.cmd.Process.Pid, err)
	}
	return nil
}
