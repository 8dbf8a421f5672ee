package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/callscope/callscope/client/cdr"
)

// Usage mistakes (exit 2) are found before anything is dialled, and where the mistake is a near miss the
// message offers the nearest valid word: "unknown command "clls" for "callscope": did you mean calls?".

// enumFlag is a flag that takes one of a few words (a comma-separated list of them for slice flags).
type enumFlag struct {
	values []string          // offered by completion and listed in the error, in this order
	valid  func(string) bool // nil: one of values, in any case
}

// enum declares the words flag name of c takes: shell completion offers them, and a value that is none of
// them is a usage error before the command runs.
func (a *app) enum(c *cobra.Command, name string, values []string, valid func(string) bool) {
	f := c.Flags().Lookup(name)
	if f == nil {
		f = c.PersistentFlags().Lookup(name)
	}
	if f == nil {
		panic("cli: enum on undefined flag --" + name) // a typo in this package
	}
	if a.enums == nil {
		a.enums = map[*pflag.Flag]enumFlag{}
	}
	a.enums[f] = enumFlag{values: values, valid: valid}
	_ = c.RegisterFlagCompletionFunc(name, fixedCompletion(values...))
}

// checkEnums reports the first flag given on c's command line with a value its enum does not take.
func (a *app) checkEnums(c *cobra.Command) error {
	var err error
	c.Flags().Visit(func(f *pflag.Flag) {
		e, ok := a.enums[f]
		if !ok || err != nil {
			return
		}
		vals := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
		}
		for _, v := range vals {
			if !e.takes(v) {
				err = e.usage(f.Name, v)
				return
			}
		}
	})
	return err
}

func (e enumFlag) takes(v string) bool {
	if e.valid != nil {
		return e.valid(v)
	}
	return slices.ContainsFunc(e.values, func(w string) bool { return strings.EqualFold(w, strings.TrimSpace(v)) })
}

func (e enumFlag) usage(flag, v string) error {
	msg := fmt.Sprintf("--%s %q is not one of %s", flag, v, orList(e.values))
	if s := nearest(v, e.values); s != "" {
		msg += ": did you mean " + s + "?"
	}
	return usageError{errors.New(msg)}
}

// orList is "a, b or c".
func orList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// The words of the enum flags shared by several commands.
var (
	dispositionWords = []string{string(cdr.DispAnswered), string(cdr.DispNoAnswer), string(cdr.DispBusy),
		string(cdr.DispFailed), string(cdr.DispUnknown)}
	callTypeWords = []string{string(cdr.CallInbound), string(cdr.CallOutbound), string(cdr.CallInternal),
		string(cdr.CallOther), string(cdr.CallUnknown)}
	recordFormats = []string{"table", "csv", "json"}
)

// validDisposition takes every spelling the PBXs use (CALL_NOANSWER, NO ANSWER, answered …).
func validDisposition(v string) bool {
	return slices.Contains(dispositionWords, string(cdr.ParseDisposition(v)))
}

// validCallType takes every spelling the PBXs use (CALLTYPE_INBOUND, in, outgoing …).
func validCallType(v string) bool {
	return slices.Contains(callTypeWords, string(cdr.ParseCallType(v)))
}

var kindWords = []string{cdr.KindComX, cdr.KindDifuse}

// nearest is the word of options closest to s when it is close enough to be a typing slip (one edit in a
// short word, two in a longer one, or s a prefix of it), else "".
func nearest(s string, options []string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	best, bestD := "", 3
	for _, o := range options {
		lo := strings.ToLower(o)
		d := editDistance(s, lo)
		if strings.HasPrefix(lo, s) && utf8.RuneCountInString(s) >= 2 {
			d = min(d, 1)
		}
		if n := utf8.RuneCountInString(s); d < bestD && (d <= 1 && n >= 2 || d == 2 && n >= 5) {
			best, bestD = o, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counting runes; a swap of two neighbours counts
// once, as it is one slip of the fingers.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return max(len(ra), len(rb)) // no one mistypes a command name that long; keep the work bounded
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// unknownCommand is the error for a word that names no subcommand of c.
func unknownCommand(c *cobra.Command, word string) error {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	msg := fmt.Sprintf("unknown command %q for %q", word, c.CommandPath())
	if s := nearest(word, names); s != "" {
		msg += ": did you mean " + s + "?"
	} else {
		msg += ": use " + orList(names)
	}
	return usageError{errors.New(msg)}
}

// helpCommand replaces cobra's help command, which shows the root's help and exits 0 for a topic it does not
// know: here "help clls" is the usage error a mistyped command is ("did you mean calls?").
func helpCommand() *cobra.Command {
	// topic is the command args name (cobra's own lookup, as its help command does), or the usage error for the
	// first word that names none.
	topic := func(c *cobra.Command, args []string) (*cobra.Command, error) {
		target, rest, err := c.Root().Find(args)
		if len(rest) > 0 {
			return nil, unknownCommand(target, rest[0])
		}
		return target, err
	}
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help shows the help of any command: callscope help calls is callscope calls --help.",
		RunE: func(c *cobra.Command, args []string) error {
			target, err := topic(c, args)
			if err != nil {
				return err
			}
			target.InitDefaultHelpFlag() // listed in its help, as COMMAND --help lists them
			target.InitDefaultVersionFlag()
			return target.Help()
		},
		ValidArgsFunction: func(c *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, err := topic(c, args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var words []cobra.Completion
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), prefix) {
					words = append(words, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return words, cobra.ShellCompDirectiveNoFileComp
		},
	}
}

// checkArgs makes every command's argument checks usage errors with a message naming the command: a command
// with subcommands says which word it did not know, the others what they take.
func checkArgs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		checkArgs(sub)
	}
	if c.Name() == "help" {
		return
	}
	if !c.Runnable() && c.HasSubCommands() {
		// cobra shows a command that cannot run as help without looking at its arguments; run it, so a
		// word it does not know ("completion tcsh") is an error and no word shows the help.
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	orig := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 && cmd.HasAvailableSubCommands() {
			if orig == nil || orig(cmd, args) != nil {
				return unknownCommand(cmd, args[0])
			}
		}
		if orig == nil {
			return nil
		}
		err := orig(cmd, args)
		if err == nil {
			return nil
		}
		var ue usageError
		if errors.As(err, &ue) {
			return err
		}
		if len(args) > 0 && strings.HasPrefix(err.Error(), "unknown command") {
			return usagef("%s takes no arguments; got %q (see %s --help)", cmd.Name(), args[0], cmd.CommandPath())
		}
		return usagef("%s: %v (see %s --help)", cmd.CommandPath(), err, cmd.CommandPath())
	}
}

// exactlyOne is an Args check for a command that takes one operand: "decode takes one FILE: callscope decode …".
func exactlyOne(what, example string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef("%s takes one %s, e.g. %s", c.Name(), what, example)
		}
		return nil
	}
}

// flagError turns pflag's parse errors into one-line usage errors people can act on.
func flagError(c *cobra.Command, err error) error {
	var (
		notExist *pflag.NotExistError
		required *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
	)
	switch {
	case errors.As(err, &notExist):
		name := notExist.GetSpecifiedName()
		if notExist.GetSpecifiedShortnames() != "" {
			break
		}
		var names []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		if s := nearest(name, names); s != "" {
			return usagef("unknown flag: --%s: did you mean --%s?", name, s)
		}
		return usagef("unknown flag: --%s (see %s --help)", name, c.CommandPath())
	case errors.As(err, &required):
		if f := required.GetFlag(); f != nil {
			return usagef("--%s needs a value: --%s %s", f.Name, f.Name, valueHint(f))
		}
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		switch f.Value.Type() {
		case "int", "int64", "int32", "uint", "uint64":
			return usagef("--%s must be a whole number, not %q", f.Name, invalid.GetValue())
		case "duration":
			return usagef("--%s must be a duration such as 30s or 2m, not %q", f.Name, invalid.GetValue())
		case "bool":
			return usagef("--%s must be true or false, not %q", f.Name, invalid.GetValue())
		}
	}
	return usageError{err}
}

// valueHint is what a flag's value looks like, for "--page needs a value: --page N".
func valueHint(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "int", "int64", "int32", "uint", "uint64":
		return "N"
	case "duration":
		return "30s"
	}
	return strings.ToUpper(f.Name)
}
