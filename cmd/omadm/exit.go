package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/omadm/omadm/internal/buildinfo"
	"github.com/omadm/omadm/internal/suggest"
)

// Exit statuses of omadm: 0 success, 1 the operation failed, 2 the command
// line was wrong (unknown command or flag, bad argument count or value), 3
// a `ctl … --wait` ran out of time before the job or operation ended.
// Commands return errors; exitCode maps them to a status in this one place:
// a usageError is 2, an exitError its own code, anything else 1.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitTimeout = 3

	// The statuses of a job, operation or campaign a `ctl … --wait` followed.
	exitJobFailed  = exitFailed
	exitJobTimeout = exitTimeout

	// `omadm notify decode` has statuses of its own: 2 the input cannot be
	// decoded, 3 the digest is invalid.
	exitUndecodable   = 2
	exitDigestInvalid = 3

	cliAnnotate = "omadm.cli.prepared"
)

// exitError carries a specific exit status out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// failedf is an operation that ended and failed (exit status 1), e.g. a job
// or campaign a --wait followed.
func failedf(format string, a ...any) error {
	return &exitError{code: exitFailed, err: fmt.Errorf(format, a...)}
}

// timedOutf is a --wait that ran out before the job or operation ended
// (exit status 3).
func timedOutf(format string, a ...any) error {
	return &exitError{code: exitTimeout, err: fmt.Errorf(format, a...)}
}

// usageError is a wrong command line. Commands return it (usageErrorf) for
// bad flag values so the exit status is 2 and the message says how to get help.
type usageError struct {
	err  error
	hint string // printed on the line after the error, e.g. where help is
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf makes a usageError.
func usageErrorf(format string, a ...any) error {
	return &usageError{err: fmt.Errorf(format, a...)}
}

// exitCode maps a command's error to the process exit status.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra reports missing required flags and broken flag groups as plain errors.
	if m := err.Error(); strings.HasPrefix(m, "required flag(s)") || strings.Contains(m, "flags in the group") {
		return exitUsage
	}
	return exitFailed
}

// prepareCLI applies the conventions to the whole command tree below root
// (once): --version, flag and argument errors as usageErrors, unknown
// subcommands refused with a suggestion, and the completion command.
func prepareCLI(root *cobra.Command) {
	if root.Annotations[cliAnnotate] != "" {
		return
	}
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cliAnnotate] = "yes"
	if root.Version == "" {
		root.Version = buildinfo.Read().Version
		root.SetVersionTemplate(buildinfo.Read().String(root.Name()) + "\n")
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{err: err, hint: flagHint(c, err)}
	})
	root.InitDefaultCompletionCmd()
	completionToCommandOutput(root)
	walkCommands(root, func(c *cobra.Command) {
		c.SilenceUsage, c.SilenceErrors = true, true
		c.SuggestionsMinimumDistance = 2
		if c.Args != nil {
			args := c.Args
			c.Args = func(c *cobra.Command, a []string) error {
				if err := args(c, a); err != nil {
					return &usageError{err: err, hint: fmt.Sprintf("Run '%s --help' for usage.", c.CommandPath())}
				}
				return nil
			}
		}
		if c.HasSubCommands() && !c.Runnable() {
			c.Args = cobra.ArbitraryArgs
			c.RunE = groupRunE
		}
	})
}

// flagHint is the line under a flag error: a close flag name, else where the
// flags are listed.
func flagHint(c *cobra.Command, err error) string {
	m := err.Error()
	if name, ok := strings.CutPrefix(m, "unknown flag: --"); ok {
		var names []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		if best := suggest.Closest(name, names); best != "" {
			return fmt.Sprintf("Did you mean --%s? Run '%s --help' for the flags.", best, c.CommandPath())
		}
	}
	return fmt.Sprintf("Run '%s --help' for the flags.", c.CommandPath())
}

// groupRunE runs a command that only groups subcommands: alone it shows its
// help, with an argument it is an unknown subcommand.
func groupRunE(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return c.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return &usageError{err: errors.New(msg), hint: fmt.Sprintf("Run '%s --help' for usage.", c.CommandPath())}
}

// completionToCommandOutput makes `completion SHELL` write to the command's
// output: cobra's own binds the writer when the command is built.
func completionToCommandOutput(root *cobra.Command) {
	comp, _, err := root.Find([]string{"completion"})
	if err != nil || comp == root {
		return
	}
	comp.Long = `Print the shell completion script of omadm for bash, zsh, fish or powershell:

  source <(omadm completion bash)                         # bash, this shell
  omadm completion zsh > "${fpath[1]}/_omadm"             # zsh
  omadm completion fish > ~/.config/fish/completions/omadm.fish

See "omadm completion SHELL --help" for installing it for every session.`
	for _, sh := range comp.Commands() {
		sh.RunE = func(c *cobra.Command, _ []string) error {
			noDesc, _ := c.Flags().GetBool("no-descriptions")
			w := c.OutOrStdout()
			switch c.Name() {
			case "bash":
				return root.GenBashCompletionV2(w, !noDesc)
			case "zsh":
				if noDesc {
					return root.GenZshCompletionNoDesc(w)
				}
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, !noDesc)
			case "powershell":
				if noDesc {
					return root.GenPowerShellCompletion(w)
				}
				return root.GenPowerShellCompletionWithDesc(w)
			}
			return usageErrorf("no completion for shell %q", c.Name())
		}
	}
}

func walkCommands(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, s := range c.Commands() {
		walkCommands(s, f)
	}
}

// run executes root with args and returns the exit status, printing errors
// to stderr.
func run(root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	prepareCLI(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err != nil && err.Error() != "" {
		fmt.Fprintln(stderr, root.Name()+":", err)
	}
	if ue := (*usageError)(nil); errors.As(err, &ue) && ue.hint != "" {
		fmt.Fprintln(stderr, ue.hint)
	}
	return exitCode(err)
}
