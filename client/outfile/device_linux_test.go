package outfile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// A character device is written into and stays a device. The device is a pseudo-terminal made for the test, in
// raw mode so that the bytes pass unchanged: real device paths are never written by tests.
func TestDeviceIsWrittenInto(t *testing.T) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer master.Close()
	var n int
	rc, _ := master.SyscallConn()
	rc.Control(func(fd uintptr) {
		if err = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); err == nil {
			n, err = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	p := fmt.Sprintf("/dev/pts/%d", n)
	slave, err := os.OpenFile(p, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		master.SetReadDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, len(content))
		k, _ := io.ReadFull(master, b)
		got <- b[:k]
	}()
	if err := Write(context.Background(), p, writeContent); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, content) {
		t.Fatalf("the terminal got %q", b)
	}
	if st, err := os.Lstat(p); err != nil || st.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("%s is not a device any more: %v", p, err)
	}
}
