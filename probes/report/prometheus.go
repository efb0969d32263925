package report

import (
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/members"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
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
//	clusterdoctor_tomcat_member_up{address, port}                 1 heard, 0 gone or an expected peer not heard
//	clusterdoctor_tomcat_member_heartbeat_age_seconds{address, port}  since its last heartbeat
//	clusterdoctor_node_check_status{node, check, status}  a node's (a container's Tomcat) checks, as above
//	clusterdoctor_node_checked{node}               1 for a node checked, 0 for one that could not be
//
// The member series come from tomcat.members (when a Tomcat runs here): Tomcat itself only
// logs a member leaving at INFO, so an alert on clusterdoctor_tomcat_member_up == 0 is
// how it reaches anyone.
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
	descMemberUp  = prometheus.NewDesc("clusterdoctor_tomcat_member_up", "1 for a Tomcat cluster member heard in the last run, 0 for one gone or an expected peer not heard.", []string{"address", "port"}, nil)
	descMemberAge = prometheus.NewDesc("clusterdoctor_tomcat_member_heartbeat_age_seconds", "Time from a member's last heartbeat to the end of listening.", []string{"address", "port"}, nil)
	descNodeCheck = prometheus.NewDesc("clusterdoctor_node_check_status", "1 for the status a node's check has (a container's Tomcat, checked in its namespaces), 0 for the others.", []string{"node", "check", "status"}, nil)
	descNodeRun   = prometheus.NewDesc("clusterdoctor_node_checked", "1 for a node (a container's Tomcat) checked in the last run, 0 for one that could not be.", []string{"node"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStatus, descDuration, descChecks, descLastRun, descRunTime, descBuildInfo, descMemberUp, descMemberAge, descNodeCheck, descNodeRun} {
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
	for _, n := range rep.Nodes {
		if n.Report == nil {
			gauge(descNodeRun, 0, n.Name)
			continue
		}
		gauge(descNodeRun, 1, n.Name)
		for _, r := range n.Report.Checks {
			for _, s := range probes.Statuses {
				v := 0.0
				if r.Status == s {
					v = 1
				}
				gauge(descNodeCheck, v, n.Name, r.ID, string(s))
			}
		}
	}
	gauge(descLastRun, float64(rep.StartedAt.UnixMilli())/1000)
	gauge(descRunTime, float64(rep.DurationMs)/1000)
	gauge(descBuildInfo, 1, rep.Version)
	for _, r := range rep.Checks {
		states, _ := r.Evidence[tomcat.MemberStates].([]members.State)
		// One series per address and port: a member restarted within the run was heard
		// as two (the old one gone, the new one up); it is up, as recently as the newest.
		merged := map[[2]string]members.State{}
		var order [][2]string
		for _, st := range states {
			k := [2]string{st.Address, strconv.Itoa(st.Port)}
			prev, ok := merged[k]
			if !ok {
				order = append(order, k)
				merged[k] = st
				continue
			}
			prev.Up = prev.Up || st.Up
			if st.AgeSeconds >= 0 && (prev.AgeSeconds < 0 || st.AgeSeconds < prev.AgeSeconds) {
				prev.AgeSeconds = st.AgeSeconds
			}
			merged[k] = prev
		}
		for _, k := range order {
			st := merged[k]
			up := 0.0
			if st.Up {
				up = 1
			}
			gauge(descMemberUp, up, k[0], k[1])
			if st.AgeSeconds >= 0 {
				gauge(descMemberAge, st.AgeSeconds, k[0], k[1])
			}
		}
	}
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
