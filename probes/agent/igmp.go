package agent

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clusterdoctor/clusterdoctor/probes/igmp"
)

var (
	descQuerierSeen = prometheus.NewDesc("clusterdoctor_igmp_querier_last_seen_seconds",
		"Time since the querier's last general query on the cluster interface.", []string{"querier", "version"}, nil)
	descQuerierAllowed = prometheus.NewDesc("clusterdoctor_igmp_querier_present_for_seconds",
		"How long the querier may stay silent before its LAN takes it for gone (robustness × interval + response/2).", []string{"querier", "version"}, nil)
	descQueriersDropped = prometheus.NewDesc("clusterdoctor_igmp_queriers_dropped_total",
		"Queriers let go to keep within the bound of those tracked (more sources than a LAN has queriers: forged queries).", nil, nil)
)

// igmpCollector exports what the agent's IGMP watch has heard.
type igmpCollector struct{ state func() *igmp.State }

func (c igmpCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descQuerierSeen
	ch <- descQuerierAllowed
	ch <- descQueriersDropped
}

func (c igmpCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	if s == nil {
		return
	}
	for _, q := range s.Queriers {
		labels := []string{q.Addr.String(), "v" + strconv.Itoa(q.Version)}
		ch <- prometheus.MustNewConstMetric(descQuerierSeen, prometheus.GaugeValue, s.Now.Sub(q.Last).Seconds(), labels...)
		ch <- prometheus.MustNewConstMetric(descQuerierAllowed, prometheus.GaugeValue, q.PresentFor().Seconds(), labels...)
	}
	ch <- prometheus.MustNewConstMetric(descQueriersDropped, prometheus.CounterValue, float64(s.Dropped))
}

// serveIGMP answers /igmp: the watch's state as JSON, which igmp.querier in a plain
// preflight on this host reads (404 while no watch runs).
func (a *Agent) serveIGMP(w http.ResponseWriter, _ *http.Request) {
	var s *igmp.State
	if a.IGMP != nil {
		s = a.IGMP()
	}
	if s == nil {
		http.Error(w, "not watching IGMP (no cluster interface, or no CAP_NET_RAW)", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s)
}
