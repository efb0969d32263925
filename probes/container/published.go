package container

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/ports"
)

// PublishedBy names the container behind a port an engine publishes on this host, where
// this host connects to at (one of its own addresses): the container a nat rule of this
// host sends the connection to (behindDNAT), else the one of the process that holds the
// listening socket, Podman's conmon for the container (its -n NAME) or Docker's
// docker-proxy (its -container-ip); via says which. "" where the port is no engine's.
// Equivalent to: iptables -t nat -S OUTPUT, or ss -ltnp 'sport = :PORT' and the owner's
// command line.
func PublishedBy(ctx context.Context, env *probes.Env, at netip.AddrPort) (name, via string) {
	if name, via := behindDNAT(env, at); name != "" {
		return name, via
	}
	port := int(at.Port())
	holders, err := ports.Listening(ctx, env, func(p int) bool { return p == port })
	if err != nil {
		return "", ""
	}
	for _, h := range holders {
		if h.PID <= 0 {
			continue
		}
		b, err := env.ReadFile(fmt.Sprintf("/proc/%d/cmdline", h.PID), maxProcFile)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if name := publisher(args); name != "" {
			return name, fmt.Sprintf("the listening socket of %s (pid %d)", filepath.Base(args[0]), h.PID)
		}
	}
	return "", ""
}

// publisher reads an engine's port-holding process's command line.
func publisher(args []string) string {
	switch filepath.Base(args[0]) {
	case "conmon":
		if name := ConmonName(args); name != "" {
			return "podman container " + name
		}
	case "docker-proxy":
		for i, a := range args {
			if a == "-container-ip" && i+1 < len(args) {
				return "docker container at " + args[i+1]
			}
		}
	}
	return ""
}
