// Command omadm is the operator side of omadm: the DM server (serve), the
// operator CLI (ctl), the fleet simulator (sim), the demo, and tools for DM
// engineers (decode, encode, notify, bench).
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// rootCmd is the omadm command; each subcommand registers itself from its own
// file with an init function, so subcommands stay independent.
var rootCmd = &cobra.Command{
	Use:           "omadm",
	Short:         "OMA DM 1.2 server, operator CLI and tools",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// exitError carries a specific exit status out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	if err := rootCmd.Execute(); err != nil {
		code := 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "omadm:", err)
		}
		os.Exit(code)
	}
}
