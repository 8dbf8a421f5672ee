package profile

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startBus starts a private D-Bus session bus with no services on it (no Secret Service) and returns its address.
func startBus(t *testing.T, daemon string) string {
	t.Helper()
	cmd := exec.Command(daemon, "--session", "--nofork", "--nopidfile", "--print-address=1", "--address=unix:dir="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	select {
	case addr := <-lines:
		if addr == "" {
			t.Skip("dbus-daemon printed no address")
		}
		return addr
	case <-time.After(5 * time.Second):
		t.Skip("dbus-daemon did not start")
	}
	return ""
}
