package main_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast/forge"
)

// floodCounters counts, in h's input and output hooks, the membership port's traffic
// with every source but the real peer's.
func floodCounters(h *lab.Host, real netip.Addr) {
	h.Nft(fmt.Sprintf(`table inet cdflood {
	counter in_forged {}
	counter out_forged {}
	chain in {
		type filter hook input priority -10
		ip saddr != %s udp dport 45564 counter name in_forged
	}
	chain out {
		type filter hook output priority -10
		ip daddr != %s udp sport 45564 counter name out_forged
	}
}
`, real, real))
}

var counterRE = regexp.MustCompile(`packets (\d+) bytes (\d+)`)

// nftCounter reads a named counter of table inet cdflood (and resets it).
func nftCounter(t *testing.T, h *lab.Host, name string) (packets, bytes int) {
	t.Helper()
	out, err := h.Command(lab.Private{}, "nft", "reset", "counter", "inet", "cdflood", name).CombinedOutput()
	m := counterRE.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("nft reset counter %s: %v\n%s", name, err, out)
	}
	packets, _ = strconv.Atoi(string(m[1]))
	bytes, _ = strconv.Atoi(string(m[2]))
	return packets, bytes
}

// vmHWM is a process's peak resident set, in kB, from the kernel.
func vmHWM(t *testing.T, pid int) int {
	t.Helper()
	kb := vmHWMOf(pid)
	if kb == 0 {
		t.Fatalf("no VmHWM for pid %d", pid)
	}
	return kb
}

// vmHWMOf is vmHWM, 0 when the process is gone.
func vmHWMOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}

// TestAgentUnderForgedFlood: a million forged datagrams (every request kind, random
// sender ids, sequence numbers and cookies, sources spoofed across the cluster subnet)
// at an agent. Its peak RSS grows by less than 5 MB, it never sends the spoofed
// sources more bytes than they sent it, for any kind, and all the while a real peer's
// mcast-test gets ok and /healthz answers.
func TestAgentUnderForgedFlood(t *testing.T) {
	lab.RequireCommands(t, "nft")
	l := lab.New(t)
	a, b, f := l.AddHost("a", 1), l.AddHost("b", 2), l.AddHost("f", 3)
	for _, h := range []*lab.Host{a, b, f} {
		h.AddMulticastRoute()
	}
	floodCounters(b, a.Addr)
	agent := b.Start(noFirewalld, "agent-b", binary, "agent", "--iface", "cl0", "--interval", "2s", "--skip", "ntp.sync,hosts.hostname")
	c := inside(b)
	waitHealth(t, c, http.StatusOK)
	peer := func() run {
		return execute(t, a.Command(lab.Private{}, binary, "mcast-test", "--peer", b.Addr.String(), "--iface", "cl0",
			"--count", "20", "--interval", "50ms", "--wait", "3s", "-o", "json"))
	}
	// Steady state first: a few runs of the checks and of a peer's test, so the growth
	// measured is the flood's, not the agent's first minutes'.
	for range 3 {
		if r := peer(); r.code != 0 {
			t.Fatalf("mcast-test before the flood: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		time.Sleep(time.Second)
	}
	nftCounter(t, b, "in_forged")
	nftCounter(t, b, "out_forged")
	before := vmHWM(t, agent.Process.Pid)

	const total, rate = 1_000_000, 60_000
	per := total / len(forge.Kinds)
	dst := netip.AddrPortFrom(b.Addr, 45564)
	for k, kind := range forge.Kinds {
		r := rand.New(rand.NewPCG(uint64(k), 1))
		var wg sync.WaitGroup
		var sent, failed int
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			sent, failed, err = f.Flood(dst, per, rate, func(int) lab.Forged {
				return lab.Forged{From: lab.SpoofedInSubnet(r), Payload: kind.Make(r)}
			})
			if err != nil {
				t.Error(err)
			}
		}()
		time.Sleep(200 * time.Millisecond)
		res := peer()
		code, body := get(t, c, "http://127.0.0.1:9716/healthz")
		wg.Wait()
		if res.code != 0 || !strings.Contains(res.stdout, `"verdict": "ok"`) {
			t.Errorf("%s flood: a real peer's mcast-test: exit %d\n%s%s", kind.Name, res.code, res.stdout, res.stderr)
		}
		if code != http.StatusOK {
			t.Errorf("%s flood: /healthz %d %s", kind.Name, code, body)
		}
		inP, inB := nftCounter(t, b, "in_forged")
		outP, outB := nftCounter(t, b, "out_forged")
		t.Logf("%s: %d forged sent (%d failed); the agent got %d packets (%d bytes), sent %d packets (%d bytes) to the forged sources",
			kind.Name, sent, failed, inP, inB, outP, outB)
		if inP < per/2 {
			t.Errorf("%s: only %d of %d forged datagrams reached the agent's host: the flood did not happen", kind.Name, inP, per)
		}
		if outB > inB {
			t.Errorf("%s: the agent sent the forged sources %d bytes for their %d: amplification", kind.Name, outB, inB)
		}
	}
	after := vmHWM(t, agent.Process.Pid)
	t.Logf("agent VmHWM %d kB before the flood, %d kB after", before, after)
	if after-before >= 5*1024 {
		t.Errorf("the agent's peak RSS grew by %d kB under the flood; want less than 5 MB", after-before)
	}
}
