package fleet

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/omadm/omadm/storage"
)

// newOperationsCounter is omadm_fleet_operations_total{mo,state}: the
// operations this Manager moved into each state (creation counts as
// queued), by MO. Several nodes on one database each count the changes
// they made; every change is made by exactly one node, so the sum over the
// nodes is the fleet's.
func newOperationsCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "omadm", Subsystem: "fleet", Name: "operations_total",
		Help: "Operations that entered each state (queued at creation and at each retry, sent, accepted, retry_wait, succeeded, failed, timed_out, cancelled), by MO.",
	}, []string{"mo", "state"})
}

// count records one stored state change of op.
func (m *Manager) count(op *storage.Operation) {
	m.ops.WithLabelValues(op.MO, string(op.State)).Inc()
}

// Collectors returns the Manager's Prometheus collectors for the caller to
// register on its own registry.
func (m *Manager) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.ops}
}
