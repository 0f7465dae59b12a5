package devdetail

import "github.com/omadm/omadm/syncml"

func dmtreeStatus(err error) syncml.StatusCode { return syncml.StatusOf(err) }
