package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionPackage is this package's import path, which the release build's -X flags name.
const versionPackage = "github.com/callscope/callscope/cmd/callscope/internal/cli"

// The release build stamps these (.goreleaser.yaml: -X versionPackage.version={{.Version}} …). A build
// without them (go run, go build, go install) reports "devel" and what the Go toolchain recorded.
var (
	version string
	commit  string
	date    string
)

// versionText is the line --version prints after "callscope ": the version, the commit and when it was
// built, and the Go toolchain and platform (what a bug report needs).
func versionText() string {
	bi, _ := debug.ReadBuildInfo()
	return describeBuild(version, commit, date, bi)
}

// describeBuild is versionText from the stamp, or from the toolchain's build info (nil when none).
func describeBuild(v, c, d string, bi *debug.BuildInfo) string {
	modified := false
	if v == "" {
		v = "devel"
		if bi != nil {
			if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
				v = mv // go install …@v1.2.3
			}
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					c = s.Value
				case "vcs.time":
					d = s.Value
				case "vcs.modified":
					modified = s.Value == "true"
				}
			}
		}
	}
	if len(c) > 12 {
		c = c[:12]
	}
	s := v + " ("
	if c != "" {
		s += "commit " + c
		if modified {
			s += " with local changes"
		}
		s += ", "
	}
	if d != "" {
		s += "built " + d + ", "
	}
	return s + fmt.Sprintf("%s %s/%s)", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print callscope's version, commit and build date",
		Example: `  callscope version`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(a.stdout, "callscope "+versionText())
			return err
		},
	}
}
