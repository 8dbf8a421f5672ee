//go:build linux

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// outCommand is one command with an -o, and the bytes it must write there.
type outCommand struct {
	name string
	args func(out string) []string
	want []byte
}

// outCommands are every command that takes -o, against one simulator, with what each writes.
func outCommands(t *testing.T) []outCommand {
	t.Helper()
	srv, _ := exportSim(t)
	base := []string{"--url", srv.URL(), "--user", "admin", "--from", "2026-11-19", "--to", "2026-11-20"}
	csvOut, errs, code := run(t, exportEnv, append([]string{"calls", "--format", "csv"}, base...)...)
	if code != 0 || csvOut == "" {
		t.Fatalf("calls: exit %d %s", code, errs)
	}
	var id string
	for k := range csvRecordings(t, []byte(csvOut)) {
		id = k
		break
	}
	if id == "" {
		t.Fatal("no call with a recording")
	}
	samples, err := os.ReadFile(filepath.Join(audioTestdata, "odd-length-gsm.gsm.s16le"))
	if err != nil {
		t.Fatal(err)
	}
	return []outCommand{
		{"decode", func(out string) []string {
			return []string{"decode", filepath.Join(audioTestdata, "odd-length-gsm.gsm"), "-o", out}
		}, samples},
		{"rec", func(out string) []string {
			return []string{"rec", "--url", srv.URL(), "--user", "admin", "--id", id, "-o", out}
		}, servedRecording(t, srv, id)},
		{"export", func(out string) []string { return append([]string{"export", "-o", out}, base...) }, []byte(csvOut)},
		{"calls", func(out string) []string {
			return append([]string{"calls", "--format", "csv", "-o", out}, base...)
		}, []byte(csvOut)},
	}
}

// readFIFO opens the FIFO for reading and reads it to the end in the background.
func readFIFO(path string) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	return got
}

// A FIFO is written into, not replaced: the reader gets the bytes, the FIFO stays.
func TestOutputToFIFO(t *testing.T) {
	for _, c := range outCommands(t) {
		t.Run(c.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "out.fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			got := readFIFO(fifo)
			_, errs, code := run(t, exportEnv, c.args(fifo)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			select {
			case b := <-got:
				if !bytes.Equal(b, c.want) {
					t.Fatalf("the reader got %d bytes, want %d", len(b), len(c.want))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the FIFO's reader got nothing")
			}
			if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
				t.Fatalf("the FIFO was replaced: %v %v", st.Mode(), err)
			}
		})
	}
}

// A symbolic link is followed: its target is written (a relative link resolves from the link's folder, through a
// chain of links, and a dangling link creates its target); the links stay links.
func TestOutputToSymlink(t *testing.T) {
	for _, c := range outCommands(t) {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range []string{"links", "real", "sub"} {
				os.Mkdir(filepath.Join(dir, d), 0o755)
			}
			target := filepath.Join(dir, "real", "target.out")
			os.WriteFile(target, []byte("old contents"), 0o640)
			os.Chmod(target, 0o640)
			first, second := filepath.Join(dir, "links", "first"), filepath.Join(dir, "links", "second")
			os.Symlink("second", first)
			os.Symlink("../sub/../real/target.out", second)
			dangling := filepath.Join(dir, "links", "dangling")
			os.Symlink("../real/new.out", dangling)

			for _, tc := range []struct {
				link, target string
				mode         os.FileMode
			}{
				{first, target, 0o640}, // an existing file keeps its permissions
				{dangling, filepath.Join(dir, "real", "new.out"), 0o644},
			} {
				_, errs, code := run(t, exportEnv, c.args(tc.link)...)
				if code != 0 {
					t.Fatalf("-o %s: exit %d: %s", tc.link, code, errs)
				}
				for _, l := range []string{first, second, dangling} {
					if st, err := os.Lstat(l); err != nil || st.Mode()&os.ModeSymlink == 0 {
						t.Fatalf("-o %s: the link %s was replaced (%v)", tc.link, l, err)
					}
				}
				b, err := os.ReadFile(tc.target)
				if err != nil || !bytes.Equal(b, c.want) {
					t.Fatalf("-o %s: the target holds %d bytes, want %d (%v)", tc.link, len(b), len(c.want), err)
				}
				if st, _ := os.Stat(tc.target); st.Mode().Perm() != tc.mode {
					t.Errorf("-o %s: the target's mode is %v, want %v", tc.link, st.Mode().Perm(), tc.mode)
				}
			}
			for _, d := range []string{"links", "real", "sub"} {
				ents, _ := os.ReadDir(filepath.Join(dir, d))
				for _, e := range ents {
					if strings.HasPrefix(e.Name(), ".") {
						t.Errorf("left behind: %s/%s", d, e.Name())
					}
				}
			}
		})
	}
}

// A folder is refused with an error that names it, never a temporary file, and nothing is left in it.
func TestOutputToDirectory(t *testing.T) {
	for _, c := range outCommands(t) {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a folder")
			os.Mkdir(dir, 0o755)
			_, errs, code := run(t, exportEnv, c.args(dir)...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			last := lines[len(lines)-1] // after the simulator's factory-password warning
			if code == 0 || !strings.Contains(last, dir+" is a folder") || strings.Contains(errs, ".part") ||
				strings.Contains(errs, ".tmp") {
				t.Fatalf("exit %d, stderr %q; want one line saying %s is a folder", code, errs, dir)
			}
			if ents, _ := os.ReadDir(dir); len(ents) > 0 {
				t.Fatalf("left in the folder: %v", ents)
			}
			if ents, _ := os.ReadDir(filepath.Dir(dir)); len(ents) != 1 {
				t.Fatalf("left beside the folder: %v", ents)
			}
		})
	}
}

// A new file is an ordinary document: 0644 (less the umask), the same for every command.
func TestOutputFileMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	for _, c := range outCommands(t) {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "new.out")
			if _, errs, code := run(t, exportEnv, c.args(out)...); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			st, err := os.Stat(out)
			if err != nil || st.Mode() != 0o644 {
				t.Fatalf("mode %v (%v), want -rw-r--r--", st.Mode(), err)
			}
			if b, _ := os.ReadFile(out); !bytes.Equal(b, c.want) {
				t.Fatalf("wrote %d bytes, want %d", len(b), len(c.want))
			}
		})
	}
}

// openPTY opens a pseudo-terminal in raw mode: a real character device that exists only for the test.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
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
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// readN reads n bytes from the terminal's master side in the background.
func readN(f *os.File, n int) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		f.SetReadDeadline(time.Now().Add(20 * time.Second))
		b := make([]byte, n)
		k, _ := io.ReadFull(f, b)
		got <- b[:k]
	}()
	return got
}

// A device (here a terminal made for the test) is written into, never replaced.
func TestOutputToDevice(t *testing.T) {
	for _, c := range outCommands(t) {
		t.Run(c.name, func(t *testing.T) {
			master, slave := openPTY(t)
			got := readN(master, len(c.want))
			_, errs, code := run(t, exportEnv, c.args(slave.Name())...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if b := <-got; !bytes.Equal(b, c.want) {
				t.Fatalf("the terminal got %d bytes, want %d", len(b), len(c.want))
			}
			if st, err := os.Lstat(slave.Name()); err != nil || st.Mode()&os.ModeCharDevice == 0 {
				t.Fatalf("%s is no longer a device: %v %v", slave.Name(), st.Mode(), err)
			}
		})
	}
}

// decode writes to stdout when it is not a terminal; to a terminal it refuses binary output unless -o - says so.
func TestDecodeToStdout(t *testing.T) {
	in := filepath.Join(audioTestdata, "odd-length-gsm.gsm")
	want, _ := os.ReadFile(in + ".s16le")
	out, errs, code := run(t, nil, "decode", in)
	if code != 0 || out != string(want) {
		t.Fatalf("piped: exit %d, %d bytes on stdout, want %d: %s", code, len(out), len(want), errs)
	}

	master, slave := openPTY(t)
	var errb bytes.Buffer
	code = Main([]string{"decode", in}, nil, slave, &errb)
	if code != 2 || !strings.Contains(errb.String(), "-o FILE") || !strings.Contains(errb.String(), "-o -") ||
		strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
		t.Fatalf("to a terminal: exit %d, stderr %q; want a usage error suggesting -o FILE or -o -", code, errb.String())
	}
	got := readN(master, len(want))
	errb.Reset()
	if code := Main([]string{"decode", in, "-o", "-"}, nil, slave, &errb); code != 0 {
		t.Fatalf("-o - to a terminal: exit %d %s", code, errb.String())
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("-o - to a terminal: got %d bytes, want %d", len(b), len(want))
	}
}

// TestOutfileHelperProcess is not a test: the tests below run the test binary as callscope, with a stdout of
// their choosing.
func TestOutfileHelperProcess(t *testing.T) {
	if os.Getenv("CALLSCOPE_OUTFILE_HELPER") != "1" {
		t.Skip("helper process")
	}
	// TestMain cleared the password from the environment; the parent hands it over under another name.
	os.Setenv("CALLSCOPE_PASSWORD", os.Getenv("CALLSCOPE_OUTFILE_PASSWORD"))
	var args []string
	json.Unmarshal([]byte(os.Getenv("CALLSCOPE_OUTFILE_ARGS")), &args)
	os.Exit(Main(args, os.Stdin, os.Stdout, os.Stderr))
}

// runWithStdout runs callscope in a child process with the given stdout (an *os.File is handed over as it is;
// any other writer gets a pipe).
func runWithStdout(t *testing.T, stdout io.Writer, args ...string) (string, int) {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutfileHelperProcess$")
	cmd.Env = append(os.Environ(), "CALLSCOPE_OUTFILE_HELPER=1", "CALLSCOPE_OUTFILE_ARGS="+string(a),
		"CALLSCOPE_OUTFILE_PASSWORD="+exportEnv["CALLSCOPE_PASSWORD"])
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return errb.String(), code
}

// /dev/stdout, and any link to one of the process's own descriptors, writes into that descriptor as the shell
// set it up: into the pipe, or appended after what is already there with >>; the file and the link stay.
func TestOutputToOwnDescriptor(t *testing.T) {
	for _, c := range outCommands(t) {
		ok := true
		// A link of our own first: were descriptors mistaken for files, only it would be replaced, not /dev/stdout.
		for _, linkTo := range []string{"/proc/self/fd/1", "/dev/stdout"} {
			ok = ok && t.Run(c.name+" "+linkTo, func(t *testing.T) {
				dir := t.TempDir()
				out := linkTo
				if linkTo != "/dev/stdout" {
					out = filepath.Join(dir, "stdout")
					os.Symlink(linkTo, out)
				}

				var piped bytes.Buffer
				if errs, code := runWithStdout(t, &piped, c.args(out)...); code != 0 {
					t.Fatalf("into a pipe: exit %d: %s", code, errs)
				}
				if !bytes.Equal(piped.Bytes(), c.want) {
					t.Fatalf("into a pipe: got %d bytes, want %d", piped.Len(), len(c.want))
				}

				file := filepath.Join(dir, "appended")
				os.WriteFile(file, []byte("before\n"), 0o644)
				f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if errs, code := runWithStdout(t, f, c.args(out)...); code != 0 {
					t.Fatalf(">> file: exit %d: %s", code, errs)
				}
				if b, _ := os.ReadFile(file); !bytes.Equal(b, append([]byte("before\n"), c.want...)) {
					t.Fatalf(">> file: it holds %d bytes, want %d after the line already there", len(b), len(c.want)+7)
				}
				if st, err := os.Lstat(out); err != nil || st.Mode()&os.ModeSymlink == 0 {
					t.Fatalf("%s is no longer a link: %v", out, err)
				}
				if ents, _ := os.ReadDir(dir); len(ents) > 2 {
					t.Fatalf("left behind: %v", ents)
				}
			})
		}
	}
}
