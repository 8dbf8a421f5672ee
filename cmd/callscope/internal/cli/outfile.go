package cli

import (
	"context"
	"io"

	"github.com/callscope/callscope/client/outfile"
)

// writeOutput writes a command's output where -o points: stdout for "-", otherwise the file, FIFO, device or
// link's target the user named, by client/outfile's rules (the one way every -o writes).
func (a *app) writeOutput(ctx context.Context, out string, write func(io.Writer) error) error {
	if out == "-" {
		return write(a.stdout)
	}
	return outfile.Write(ctx, out, write)
}

// binaryOutput is where a command that writes binary data (audio) writes when -o is not given: stdout when it is
// a pipe or a file, but never a terminal, which would show garbage and could be left in a strange state.
func (a *app) binaryOutput(out, what string) (string, error) {
	if out != "" {
		return out, checkOutput(out)
	}
	if isTerminal(a.stdout) {
		return "", usagef("%s is binary and stdout is a terminal: write it to a file with -o FILE, or give -o - to send it to the terminal anyway", what)
	}
	return "-", nil
}

// checkOutput reports an -o that cannot be written (a folder, a missing folder) before the command does the work
// whose result would be lost.
func checkOutput(out string) error {
	if out == "-" {
		return nil
	}
	return outfile.Check(out)
}
