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
	started          prometheus.Counter
	ended            *prometheus.CounterVec
	msgsIn, msgsOut  prometheus.Counter
	authFailures     *prometheus.CounterVec
	authLimited      *prometheus.CounterVec
	rejected         *prometheus.CounterVec
	latency          prometheus.Histogram
	store            *prometheus.HistogramVec
	storeRead        prometheus.Observer // store.WithLabelValues(…), resolved once
	storeWrite       prometheus.Observer
	storeQueue       prometheus.Observer
	storeBehind      prometheus.Observer
	storeMaintenance prometheus.Observer
	jobs             prometheus.Collector
	behind           prometheus.Gauge
	behindDropped    prometheus.Counter
	devInfoDropped   prometheus.Counter
	eventsRefused    prometheus.Counter
}

// Results of a DM session (label result of sessions_ended_total).
const (
	sessionCompleted      = "completed"         // ended by statuses only, or by our last package
	sessionDeviceAbort    = "device_abort"      // the device sent Alert 1223
	sessionServerRejected = "server_rejected"   // the device kept rejecting our credentials
	sessionMsgTooSmall    = "max_msg_too_small" // the device's MaxMsgSize leaves no room for a reply
)

// Kinds of storage work timed by store_seconds (label op).
const (
	storeOpRead        = "read_message"  // device, session and pending jobs for one message
	storeOpWrite       = "write_message" // the message's atomic write: session, jobs, effects
	storeOpQueue       = "read_queue"    // pending jobs read again within a message
	storeOpBehind      = "write_behind"  // traces and session events written behind the sessions
	storeOpMaintenance = "maintenance"   // expired sessions, trace pruning, old jobs and events
)

func newMetrics(store storage.JobStore) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "omadm", Subsystem: "server", Name: name, Help: help})
	}
	m := &metrics{
		started: c("sessions_started_total", "DM sessions started."),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "omadm", Subsystem: "server", Name: "sessions_ended_total",
			Help: "DM sessions ended, by result: completed, device_abort (Alert 1223 from the device), server_rejected (the device kept rejecting our credentials), max_msg_too_small.",
		}, []string{"result"}),
		msgsIn:  c("messages_in_total", "DM messages received from devices."),
		msgsOut: c("messages_out_total", "DM messages sent to devices."),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "omadm", Subsystem: "server", Name: "auth_failures_total",
			Help: "Messages rejected for missing, wrong or unknown credentials, by the scheme the message presented: basic, md5, hmac, other or none.",
		}, []string{"scheme"}),
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
		store: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "omadm", Subsystem: "server", Name: "store_seconds",
			Help:    "Time the engine spent in storage, by kind of work: read_message, write_message, read_queue, write_behind, maintenance.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"op"}),
		behind: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "omadm", Subsystem: "server", Name: "trace_backlog",
			Help: "Wire traces and session events waiting to be written behind the sessions.",
		}),
		behindDropped:  c("trace_records_dropped_total", "Traces and session events the store refused (device deleted meanwhile, store errors)."),
		devInfoDropped: c("device_values_dropped_total", "DevInfo/DevDetail (device-sent Replace) keys and values dropped over the per-device caps."),
		eventsRefused:  c("device_events_refused_total", "Generic alerts (answered 503) and session start/end events not stored over a device's event budget (Options.DeviceEventRate)."),
		jobs:           &jobsCollector{store: store},
	}
	m.storeRead = m.store.WithLabelValues(storeOpRead)
	m.storeWrite = m.store.WithLabelValues(storeOpWrite)
	m.storeQueue = m.store.WithLabelValues(storeOpQueue)
	m.storeBehind = m.store.WithLabelValues(storeOpBehind)
	m.storeMaintenance = m.store.WithLabelValues(storeOpMaintenance)
	for _, r := range []string{sessionCompleted, sessionDeviceAbort, sessionServerRejected, sessionMsgTooSmall} {
		m.ended.WithLabelValues(r) // every result shows, at 0 until it happens
	}
	return m
}

// since observes the time from start on o.
func since(o prometheus.Observer, start time.Time) { o.Observe(time.Since(start).Seconds()) }

// jobStates are the states jobs_by_state reports.
var jobStates = []storage.JobState{storage.JobQueued, storage.JobSent, storage.JobDone, storage.JobFailed, storage.JobCancelled}

// jobsCollector reports the number of jobs in each state, all devices,
// counted in the store when scraped (so every node of a shared database
// reports the same numbers).
type jobsCollector struct{ store storage.JobStore }

var jobsDesc = prometheus.NewDesc("omadm_server_jobs", "Jobs in each state (queued: waiting to be sent), all devices, counted at scrape time.", []string{"state"}, nil)

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range jobStates {
		n, err := c.store.CountJobs(ctx, s)
		if err != nil {
			// A state that cannot be counted is left out of this scrape
			// (Prometheus then sees no sample rather than a wrong one).
			continue
		}
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), string(s))
	}
}

// Collectors returns the engine's Prometheus collectors (sessions started
// and ended by result, messages in and out, rejections, authentication
// failures by scheme and their rate limiting, handle latency, storage time
// by kind of work, jobs by state, the trace write-behind's backlog and
// drops, the device values dropped over the caps, events refused over a
// device's budget) for the caller to register on its own registry.
func (e *Engine) Collectors() []prometheus.Collector {
	m := e.m
	return []prometheus.Collector{m.started, m.ended, m.msgsIn, m.msgsOut,
		m.authFailures, m.authLimited, m.rejected, m.latency, m.store, m.jobs, m.behind, m.behindDropped, m.devInfoDropped, m.eventsRefused}
}
