package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/omadm/omadm/storage"
)

// metrics are the engine's Prometheus collectors. They are per Engine (not
// registered globally) so tests and several engines in one process never clash;
// the serve command registers what Collectors returns.
type metrics struct {
	started, completed, failed prometheus.Counter
	msgsIn, msgsOut            prometheus.Counter
	authFailures               prometheus.Counter
	authLimited                *prometheus.CounterVec
	rejected                   *prometheus.CounterVec
	latency                    prometheus.Histogram
	queue                      prometheus.Collector
	behind                     prometheus.Gauge
	behindDropped              prometheus.Counter
	devInfoDropped             prometheus.Counter
	eventsRefused              prometheus.Counter
}

func newMetrics(store storage.Store) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "omadm", Subsystem: "server", Name: name, Help: help})
	}
	return &metrics{
		started:      c("sessions_started_total", "DM sessions started."),
		completed:    c("sessions_completed_total", "DM sessions that ended cleanly."),
		failed:       c("sessions_failed_total", "DM sessions aborted (Alert 1223) or given up after authentication failures."),
		msgsIn:       c("messages_in_total", "DM messages received from devices."),
		msgsOut:      c("messages_out_total", "DM messages sent to devices."),
		authFailures: c("auth_failures_total", "Messages rejected for missing, wrong or unknown credentials."),
		authLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "omadm", Subsystem: "server", Name: "auth_rate_limited_total",
			Help: "Failed authentications answered 503 because the device id's or the source address's failure bucket was empty, by bucket.",
		}, []string{"by"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "omadm", Subsystem: "server", Name: "messages_rejected_total",
			Help: "Messages rejected before processing, by reason.",
		}, []string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "omadm", Subsystem: "server", Name: "handle_seconds",
			Help:    "Time to handle one DM message, storage included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		behind: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "omadm", Subsystem: "server", Name: "trace_backlog",
			Help: "Wire traces and session events waiting to be written behind the sessions.",
		}),
		behindDropped:  c("trace_records_dropped_total", "Traces and session events the store refused (device deleted meanwhile, store errors)."),
		devInfoDropped: c("device_values_dropped_total", "DevInfo/DevDetail (device-sent Replace) keys and values dropped over the per-device caps."),
		eventsRefused:  c("device_events_refused_total", "Generic alerts (answered 503) and session start/end events not stored over a device's event budget (Options.DeviceEventRate)."),
		queue: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "omadm", Subsystem: "server", Name: "queued_jobs",
			Help: "Jobs waiting to be sent (state queued), all devices.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := store.CountJobs(ctx, storage.JobQueued)
			if err != nil {
				return -1
			}
			return float64(n)
		}),
	}
}

// Collectors returns the engine's Prometheus collectors (sessions started,
// completed and failed, messages in and out, rejections, authentication
// failures and their rate limiting, handle latency, the queued-jobs gauge, the
// trace write-behind's backlog and drops, and the device values dropped over
// the caps, events refused over a device's budget) for the caller to
// register on its own registry.
func (e *Engine) Collectors() []prometheus.Collector {
	m := e.m
	return []prometheus.Collector{m.started, m.completed, m.failed, m.msgsIn, m.msgsOut,
		m.authFailures, m.authLimited, m.rejected, m.latency, m.queue, m.behind, m.behindDropped, m.devInfoDropped, m.eventsRefused}
}
