package main

import (
	"log/slog"

	"github.com/omadm/omadm/client"
)

// pushedBootstrap applies a DM bootstrap that arrived as a WAP push on the
// --notify-listen port, when --bootstrap-accept takes its security method
// and its MAC verifies; otherwise it is refused, with the reason logged.
// A new account is used from the next start of the agent.
func pushedBootstrap(o *options, pdu []byte, log *slog.Logger) {
	if o.bootPolicy == nil || o.liveTree == nil {
		log.Warn("pushed bootstrap refused: no --bootstrap-accept policy")
		return
	}
	recs, err := client.AcceptBootstrapPush(client.DMTree(o.liveTree), pdu, o.bootPolicy)
	if err != nil {
		log.Warn("pushed bootstrap refused", "err", err)
		return
	}
	log.Info("pushed bootstrap applied (a new account is used from the next start)", "commands", len(recs))
}
