// Command flood sends forged clusterdoctor requests for bench/agent.sh: every request
// kind a responder answers, random sender ids, sequence numbers and cookies, from source
// addresses spoofed across the lab's cluster subnet, through a raw socket in the network
// namespace it runs in. It is a benchmark tool, never shipped.
//
//	ip netns exec NS go run ./bench/flood -to 10.99.0.1 -count 1000000 -rate 60000
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast/forge"
)

func main() {
	to := flag.String("to", "10.99.0.1", "the responder's address")
	port := flag.Int("port", 45564, "its membership port")
	count := flag.Int("count", 1_000_000, "datagrams to send")
	rate := flag.Int("rate", 60_000, "datagrams per second (0: as fast as possible)")
	flag.Parse()
	addr, err := netip.ParseAddr(*to)
	if err != nil || !addr.Is4() {
		fmt.Fprintf(os.Stderr, "flood: -to %q: want an IPv4 address\n", *to)
		os.Exit(2)
	}
	fd, err := lab.RawSocket()
	if err != nil {
		fmt.Fprintf(os.Stderr, "flood: raw socket: %v (needs root)\n", err)
		os.Exit(1)
	}
	r := rand.New(rand.NewPCG(1, 2))
	kinds := forge.Kinds
	sent, failed := lab.FloodFrom(fd, netip.AddrPortFrom(addr, uint16(*port)), *count, *rate, func(i int) lab.Forged {
		return lab.Forged{From: lab.SpoofedInSubnet(r), Payload: kinds[i%len(kinds)].Make(r)}
	})
	fmt.Printf("sent %d forged datagrams (%d send errors)\n", sent, failed)
}
