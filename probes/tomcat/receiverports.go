package tomcat

import (
	"fmt"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// receiverSpan is one instance's Receiver: the ports NioReceiver may bind.
type receiverSpan struct {
	in *Instance
	r  receiver
}

// receiverSpans are the Receivers of this host's clustered instances.
func receiverSpans(f *Found) []receiverSpan {
	var spans []receiverSpan
	for _, in := range f.Instances {
		if c, _ := in.Cluster(); c != nil {
			spans = append(spans, receiverSpan{in, receiverOf(in, c)})
		}
	}
	return spans
}

// mayShare reports whether two Receivers may bind the same address: the same one, or
// "auto" (getLocalHost) on either side.
func (a receiverSpan) mayShare(b receiverSpan) bool {
	return a.r.Address == b.r.Address || a.r.Address == "auto" || b.r.Address == "auto"
}

// overlaps reports whether two Receivers contend for a port: both ranges share one on an
// address both may bind.
func (a receiverSpan) overlaps(b receiverSpan) bool {
	return a.mayShare(b) && a.r.Port <= b.r.Last() && b.r.Port <= a.r.Last()
}

// receiverCollision fails when some order of starting this host's instances leaves one
// without a port. NioReceiver (ReceiverBase.bind) tries port, port+1, … autoBind times and
// takes the first free one, then advertises the port it bound in its heartbeats: peers
// expect whichever port it got, so instances that share a range are fine as long as the
// range fits them all whatever order they start in. Orders are tried for up to seven
// instances that contend with each other (5040 orders); beyond that, pairs.
func receiverCollision(f *Found) *probes.Result {
	loser, winners, contending := stranded(receiverSpans(f))
	if loser == nil {
		return nil
	}
	r := probes.FailResult("tomcat.receiver", fmt.Sprintf("%s's Receiver (ports %d-%d) finds no free port when %s started first",
		loser.in.pos(loser.r.El), loser.r.Port, loser.r.Last(), describeSpans(winners))).
		With("NioReceiver tries port .. port+autoBind-1 and takes the first free one; when all are taken it logs \"Unable to bind server socket\" and the cluster does not start",
			fmt.Sprintf("give %s a Receiver port of its own, or an autoBind that leaves room for every instance", loser.in.pos(loser.r.El)),
			map[string]any{"instances": baseNames(contending)})
	return &r
}

// stranded is the first Receiver left without a port in some start order, the ones that
// took its ports, and all that contend; nil when every order leaves each a port.
func stranded(spans []receiverSpan) (loser *receiverSpan, winners, contending []receiverSpan) {
	for i, a := range spans {
		for j, b := range spans {
			if i != j && a.overlaps(b) {
				contending = append(contending, a)
				break
			}
		}
	}
	if len(contending) < 2 {
		return nil, nil, nil
	}
	var orders [][]receiverSpan
	if len(contending) <= 7 {
		work := append([]receiverSpan(nil), contending...)
		permute(work, func(o []receiverSpan) { orders = append(orders, append([]receiverSpan(nil), o...)) })
	} else {
		for i := range contending {
			for j := range contending {
				if i != j {
					orders = append(orders, []receiverSpan{contending[i], contending[j]})
				}
			}
		}
	}
	for _, order := range orders {
		if loser, winners := startInOrder(order); loser != nil {
			return loser, winners, contending
		}
	}
	return nil, nil, nil
}

// startInOrder binds each Receiver as NioReceiver does, in this order, and returns the
// first that finds no free port and the ones that took its ports.
func startInOrder(order []receiverSpan) (*receiverSpan, []receiverSpan) {
	type taken struct {
		by   receiverSpan
		port int
	}
	var bound []taken
	for i := range order {
		s := order[i]
		got := false
		for p := s.r.Port; p <= s.r.Last() && !got; p++ {
			free := true
			for _, t := range bound {
				if t.port == p && t.by.mayShare(s) {
					free = false
					break
				}
			}
			if free {
				bound, got = append(bound, taken{s, p}), true
			}
		}
		if !got {
			var winners []receiverSpan
			for _, t := range bound {
				if t.port >= s.r.Port && t.port <= s.r.Last() && t.by.mayShare(s) {
					winners = append(winners, t.by)
				}
			}
			return &s, winners
		}
	}
	return nil, nil
}

// permute calls visit with every order of s (Heap's algorithm); s is reordered in place.
func permute(s []receiverSpan, visit func([]receiverSpan)) {
	var gen func(k int)
	gen = func(k int) {
		if k <= 1 {
			visit(s)
			return
		}
		for i := 0; i < k-1; i++ {
			gen(k - 1)
			if k%2 == 0 {
				s[i], s[k-1] = s[k-1], s[i]
			} else {
				s[0], s[k-1] = s[k-1], s[0]
			}
		}
		gen(k - 1)
	}
	gen(len(s))
}

func describeSpans(spans []receiverSpan) string {
	out := ""
	for i, s := range spans {
		if i > 0 {
			out += " and "
		}
		out += fmt.Sprintf("%s (ports %d-%d)", s.in.pos(s.r.El), s.r.Port, s.r.Last())
	}
	return out
}

func baseNames(spans []receiverSpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.in.Base
	}
	return out
}

// sharesRange reports whether another instance's Receiver range overlaps in's: then a
// port past the configured one is autoBind making room, as intended.
func sharesRange(f *Found, in *Instance) bool {
	spans := receiverSpans(f)
	for _, a := range spans {
		if a.in != in {
			continue
		}
		for _, b := range spans {
			if b.in != in && a.overlaps(b) {
				return true
			}
		}
	}
	return false
}
