package container

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/ports"
)

// PublishedBy names the container behind a port an engine publishes on this host: the
// process that holds the listening socket is Podman's conmon for the container (its
// -n NAME) or Docker's docker-proxy (its -container-ip). "" where the port is no
// engine's. Equivalent to: ss -ltnp 'sport = :PORT', then the owner's command line.
func PublishedBy(ctx context.Context, env *probes.Env, port int) string {
	holders, err := ports.Listening(ctx, env, func(p int) bool { return p == port })
	if err != nil {
		return ""
	}
	for _, h := range holders {
		if h.PID <= 0 {
			continue
		}
		b, err := env.ReadFile(fmt.Sprintf("/proc/%d/cmdline", h.PID), maxProcFile)
		if err != nil {
			continue
		}
		if name := publisher(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")); name != "" {
			return name
		}
	}
	return ""
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
