// Command omadm is the operator side of omadm: the DM server (serve), the
// operator CLI (ctl), the fleet simulator (sim), the demo, and tools for DM
// engineers (decode, encode, notify, bench).
package main

import (
	"os"

	"github.com/spf13/cobra"
)

// rootCmd is the omadm command; each subcommand registers itself from its own
// file with an init function, so subcommands stay independent.
var rootCmd = &cobra.Command{
	Use:   "omadm",
	Short: "OMA DM 1.2 server, operator CLI and tools",
	Long: `omadm is the OMA DM 1.2 server (serve), its operator CLI (ctl), the fleet
simulator (sim), the demo, and tools for DM engineers.

Exit status: 0 success, 1 the operation failed, 2 wrong command line
(unknown command or flag, bad arguments), 3 "ctl … --wait" ran out of time
before the job or operation ended.

Shell completion: "omadm completion bash|zsh|fish" prints the script, e.g.
  source <(omadm completion bash)
  omadm completion zsh > "${fpath[1]}/_omadm"
  omadm completion fish > ~/.config/fish/completions/omadm.fish`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

// exitError carries a specific exit status out of a subcommand (exit.go
// maps every error to a status).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(rootCmd, os.Args[1:], os.Stdout, os.Stderr))
}
