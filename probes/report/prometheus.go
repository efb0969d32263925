package report

import (
	"fmt"
	"io"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Metrics exposes the last report as Prometheus metrics (client_golang). The agent
// serves it on /metrics; preflight -o prometheus and --textfile write it once.
//
//	clusterdoctor_check_status{check, status}     1 for the check's status, 0 for the others
//	clusterdoctor_check_duration_seconds{check}   how long the check took
//	clusterdoctor_checks{status}                  checks per status
//	clusterdoctor_last_run_timestamp_seconds      when the last run started
//	clusterdoctor_last_run_duration_seconds       how long it took
//	clusterdoctor_build_info{version}             1
type Metrics struct {
	mu  sync.Mutex
	rep *probes.Report
}

// Set replaces the report the metrics describe.
func (m *Metrics) Set(rep *probes.Report) {
	m.mu.Lock()
	m.rep = rep
	m.mu.Unlock()
}

var (
	descStatus    = prometheus.NewDesc("clusterdoctor_check_status", "1 for the status the check has (pass, warn, fail, skip, unknown), 0 for the others.", []string{"check", "status"}, nil)
	descDuration  = prometheus.NewDesc("clusterdoctor_check_duration_seconds", "How long the check took in the last run.", []string{"check"}, nil)
	descChecks    = prometheus.NewDesc("clusterdoctor_checks", "Checks per status in the last run.", []string{"status"}, nil)
	descLastRun   = prometheus.NewDesc("clusterdoctor_last_run_timestamp_seconds", "When the last run of the checks started (Unix time).", nil, nil)
	descRunTime   = prometheus.NewDesc("clusterdoctor_last_run_duration_seconds", "How long the last run of the checks took.", nil, nil)
	descBuildInfo = prometheus.NewDesc("clusterdoctor_build_info", "clusterdoctor's version.", []string{"version"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStatus, descDuration, descChecks, descLastRun, descRunTime, descBuildInfo} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	rep := m.rep
	m.mu.Unlock()
	if rep == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, r := range rep.Checks {
		for _, s := range probes.Statuses {
			v := 0.0
			if r.Status == s {
				v = 1
			}
			gauge(descStatus, v, r.ID, string(s))
		}
		gauge(descDuration, r.Duration.Seconds(), r.ID)
	}
	counts := map[probes.Status]int{probes.Pass: rep.Summary.Pass, probes.Warn: rep.Summary.Warn,
		probes.Fail: rep.Summary.Fail, probes.Skip: rep.Summary.Skip, probes.Unknown: rep.Summary.Unknown}
	for _, s := range probes.Statuses {
		gauge(descChecks, float64(counts[s]), string(s))
	}
	gauge(descLastRun, float64(rep.StartedAt.UnixMilli())/1000)
	gauge(descRunTime, float64(rep.DurationMs)/1000)
	gauge(descBuildInfo, 1, rep.Version)
}

// Registry is a registry holding m alone (no Go runtime metrics: the output is about the
// host, and stays the same from run to run).
func (m *Metrics) Registry() *prometheus.Registry {
	r := prometheus.NewPedanticRegistry()
	r.MustRegister(m)
	return r
}

// Prometheus writes the report in the Prometheus text exposition format.
func Prometheus(w io.Writer, rep *probes.Report) error {
	m := &Metrics{}
	m.Set(rep)
	families, err := m.Registry().Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

// Textfile writes the report for node_exporter's textfile collector: a temporary file
// in the same directory, renamed over path, so the collector never reads half a file.
func Textfile(path string, rep *probes.Report) error {
	m := &Metrics{}
	m.Set(rep)
	if err := prometheus.WriteToTextfile(path, m.Registry()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
