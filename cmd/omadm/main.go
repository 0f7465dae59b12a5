// Command omadm is the operator side of omadm: the DM server (serve), the
// operator CLI (ctl), the fleet simulator (sim), the demo, and tools for DM
// engineers (decode, encode, notify, bench).
package main

import (
	"os"

	"github.com/spf13/cobra"
)

// newRootCmd builds the omadm command tree for one invocation: every flag is
// bound to a value of that invocation, never to a package variable. Each
// subcommand is built in its own file; add a new one to the list below.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
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
	root.AddCommand(
		newServeCmd(),
		newCtlCmd(),
		newSimCmd(),
		newDemoCmd(),
		newBenchCmd(),
		newDecodeCmd(),
		newEncodeCmd(),
		newNotifyCmd(),
	)
	return root
}

func main() {
	os.Exit(run(newRootCmd(), os.Args[1:], os.Stdout, os.Stderr))
}
