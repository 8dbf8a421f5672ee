// Command callscope browses a PBX's call records, plays their recordings and exports them. With no subcommand
// it opens the terminal app; subcommands make it scriptable.
package main

import (
	"os"

	"github.com/callscope/callscope/cmd/callscope/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
