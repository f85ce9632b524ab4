// Package metrics exposes Safesignal's Prometheus metrics: HTTP traffic
// per route, appends and their conflicts, projection lag, policy consumer
// redeliveries, poison-queue size and policy handler failures.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors. Create one per process.
type Metrics struct {
	reg             *prometheus.Registry
	HTTPRequests    *prometheus.CounterVec
	HTTPDuration    *prometheus.HistogramVec
	AppendDuration  prometheus.Histogram
	AppendConflicts prometheus.Counter
	PolicyFailures  *prometheus.CounterVec
}

// New registers the collectors, with the Go runtime's and the process's.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safesignal_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "safesignal_http_request_duration_seconds", Help: "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		AppendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "safesignal_append_duration_seconds", Help: "Latency of appending one command's events to the log (durable).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
		AppendConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "safesignal_append_conflicts_total", Help: "Appends refused because the aggregate moved on (optimistic concurrency).",
		}),
		PolicyFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safesignal_policy_handler_failures_total", Help: "Failed attempts of policy handlers, before retries.",
		}, []string{"handler"}),
	}
	reg.MustRegister(m.HTTPRequests, m.HTTPDuration, m.AppendDuration, m.AppendConflicts, m.PolicyFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry (for tests and linting).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Progress reports a projection's position against the log.
type Progress interface {
	Name() string
	Position() uint64
	Behind() (events uint64, since time.Duration)
}

// WatchProjections exports lag gauges for each projection.
func (m *Metrics) WatchProjections(ps ...Progress) {
	for _, p := range ps {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "safesignal_projection_lag_events", Help: "Events in the log the projection has not applied yet.",
			ConstLabels: prometheus.Labels{"projection": p.Name()},
		}, func() float64 { n, _ := p.Behind(); return float64(n) }))
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "safesignal_projection_lag_seconds", Help: "How long the projection has been behind the log (0 when caught up).",
			ConstLabels: prometheus.Labels{"projection": p.Name()},
		}, func() float64 { _, d := p.Behind(); return d.Seconds() }))
	}
}

// streamCollector reads JetStream state at scrape time.
type streamCollector struct {
	js          jetstream.JetStream
	poison      string
	events      string
	consumers   []string
	poisonDesc  *prometheus.Desc
	redelivDesc *prometheus.Desc
	pendingDesc *prometheus.Desc
}

// WatchJetStream exports the poison-queue size and, for each named durable
// consumer of the event stream, its redeliveries and pending messages.
func (m *Metrics) WatchJetStream(js jetstream.JetStream, eventStream, poisonStream string, consumers ...string) {
	m.reg.MustRegister(&streamCollector{
		js: js, poison: poisonStream, events: eventStream, consumers: consumers,
		poisonDesc:  prometheus.NewDesc("safesignal_poison_queue_messages", "Policy messages parked in the poison queue.", nil, nil),
		redelivDesc: prometheus.NewDesc("safesignal_consumer_redelivered_messages", "Messages the consumer has had redelivered and not yet acknowledged.", []string{"consumer"}, nil),
		pendingDesc: prometheus.NewDesc("safesignal_consumer_pending_messages", "Messages the consumer has not been given yet.", []string{"consumer"}, nil),
	})
}

func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.poisonDesc
	ch <- c.redelivDesc
	ch <- c.pendingDesc
}

func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if s, err := c.js.Stream(ctx, c.poison); err == nil {
		if info, err := s.Info(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(c.poisonDesc, prometheus.GaugeValue, float64(info.State.Msgs))
		}
	}
	s, err := c.js.Stream(ctx, c.events)
	if err != nil {
		return
	}
	for _, name := range c.consumers {
		cons, err := s.Consumer(ctx, name)
		if err != nil {
			continue
		}
		info, err := cons.Info(ctx)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.redelivDesc, prometheus.GaugeValue, float64(info.NumRedelivered), name)
		ch <- prometheus.MustNewConstMetric(c.pendingDesc, prometheus.GaugeValue, float64(info.NumPending), name)
	}
}
