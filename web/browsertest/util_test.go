package browsertest_test

import (
	"fmt"
	"strings"
)

// fmtSscan reads the operation number out of "Operation N started (…)".
func fmtSscan(msg string, id *int) (int, error) {
	i := strings.Index(msg, "Operation ")
	if i < 0 {
		return 0, fmt.Errorf("no operation in %q", msg)
	}
	return fmt.Sscanf(msg[i:], "Operation %d", id)
}
