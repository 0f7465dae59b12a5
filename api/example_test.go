package api_test

import (
	"fmt"

	"github.com/omadm/omadm/api"
)

// Requests are validated before anything is queued, and the error names the
// field to fix.
func ExampleValidateJobRequest() {
	_, err := api.ValidateJobRequest(&api.JobRequest{
		Command: "Atomic",
		Children: []api.JobRequest{
			{Command: "Replace", Items: []api.JobItem{{URI: "./Vendor/Level", Format: "int", Data: "high"}}},
		},
	})
	fmt.Println(err)

	spec, err := api.ValidateJobRequest(&api.JobRequest{Command: "replace",
		Items: []api.JobItem{{URI: "./Vendor/Level", Format: "int", Data: "3"}}})
	fmt.Println(spec.Command, spec.Items[0].URI, err)
	// Output:
	// children[0].items[0].data: "high" is not a 32-bit signed integer
	// Replace ./Vendor/Level <nil>
}
