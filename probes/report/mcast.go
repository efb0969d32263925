package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// MeshJSON writes an mcast-test report as one JSON document.
func MeshJSON(w io.Writer, rep *mcast.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// MeshText writes one row per peer (both directions of both paths), then each peer's
// reason, then a verdict line:
//
//	PEER  ADDRESS    VERDICT  UNICAST out/in  MULTICAST out/in  RTT ms uni/mc  TTL/HOPS
//	was2  10.0.0.12  ok       30/30 30/30     30/30 30/30       0.07/0.08      1/0
func MeshText(w io.Writer, rep *mcast.Report, opt Options) error {
	switch rep.Mode {
	case "send":
		return sendText(w, rep)
	case "listen":
		return listenText(w, rep)
	}
	bw := bufio.NewWriter(w)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tADDRESS\tVERDICT\tUNICAST out/in\tMULTICAST out/in\tRTT ms uni/mc\tMC TTL/HOPS")
	for _, p := range rep.Peers {
		u, m := p.Unicast, p.Multicast
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s %s\t%s/%s\t%s\n", p.Peer, p.Address, paintVerdict(p.Verdict, opt),
			frac(u.Received, u.Sent), frac(u.Inbound.Received, u.Inbound.Sent),
			frac(m.Received, m.Sent), frac(m.Inbound.Received, m.Inbound.Sent), ms(u.RTT.Avg), ms(m.RTT.Avg), ttlHops(m))
	}
	tw.Flush()
	fmt.Fprintln(bw)
	for _, p := range rep.Peers {
		fmt.Fprintf(bw, "%s: %s: %s\n", p.Peer, p.Verdict, p.Reason)
	}
	for _, s := range rep.Self {
		fmt.Fprintf(bw, "%s: this host, skipped\n", s)
	}
	if rep.Foreign > 0 {
		fmt.Fprintf(bw, "%d foreign datagrams on udp/%d were counted and ignored (Tomcat heartbeats, other tools, junk)\n", rep.Foreign, rep.Port)
	}
	ok := 0
	for _, p := range rep.Peers {
		if p.Verdict == mcast.VerdictOK {
			ok++
		}
	}
	fmt.Fprintf(bw, "\n%d of %d peers ok (group %s:%d, ttl %d, host %s, %d ms)\n", ok, len(rep.Peers), rep.Group, rep.Port, rep.TTL, rep.Host, rep.DurationMs)
	return bw.Flush()
}

func frac(a, b uint32) string { return fmt.Sprintf("%d/%d", a, b) }

// ms shows an average RTT, or "-" when no reply came back to measure it.
func ms(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func ttlHops(p mcast.PathResult) string {
	if p.TTL == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", p.TTL, p.Hops)
}

func paintVerdict(v string, opt Options) string {
	if !opt.Color {
		return v
	}
	c := "\x1b[31m"
	if v == mcast.VerdictOK {
		c = "\x1b[32m"
	}
	return c + v + reset
}

func sendText(w io.Writer, rep *mcast.Report) error {
	s := rep.Send
	_, err := fmt.Fprintf(w, "sent %d packets of %d bytes to %s:%d (ttl %d) in %d ms: %.0f packets/s, %d send errors\n",
		s.Sent, s.Size, rep.Group, rep.Port, rep.TTL, s.DurationMs, s.RatePPS, s.Errors)
	return err
}

func listenText(w io.Writer, rep *mcast.Report) error {
	bw := bufio.NewWriter(w)
	if len(rep.Senders) == 0 {
		fmt.Fprintf(bw, "nothing from a clusterdoctor sender arrived on %s:%d (%d foreign datagrams); here %s\n", rep.Group, rep.Port, rep.Foreign, rep.Route)
		return bw.Flush()
	}
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SENDER\tRECEIVED\tLOST\tLOSS %\tDUPS\tREORDERED\tJITTER ms\tTTL")
	for _, s := range rep.Senders {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%d\t%d\t%.3f\t%d\n", s.Sender, s.Received, s.Lost, s.LossPct, s.Duplicates, s.Reordered, s.JitterMs, s.TTL)
	}
	tw.Flush()
	fmt.Fprintf(bw, "\n%d senders heard on %s:%d (host %s, %d ms, %d foreign datagrams ignored)\n", len(rep.Senders), rep.Group, rep.Port, rep.Host, rep.DurationMs, rep.Foreign)
	return bw.Flush()
}
