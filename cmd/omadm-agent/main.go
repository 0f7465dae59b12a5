// Command omadm-agent is the OMA DM 1.2 device agent.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "omadm-agent: not built yet")
	os.Exit(1)
}
