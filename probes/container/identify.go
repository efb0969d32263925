// Package container names the network namespaces other than the host's where a Tomcat
// runs (a Docker, Podman or containerd container, or a plain `ip netns` namespace) and
// runs a command inside one, engine-agnostic: everything is read from /proc and the
// engines' own state files, no engine API is asked.
package container

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Identity is what the host knows of a node.
type Identity = probes.NodeIdentity

// cgroupPatterns find an engine's container id in a cgroup path, systemd and cgroupfs
// drivers alike: /system.slice/docker-ID.scope, /docker/ID, /machine.slice/libpod-ID.scope,
// /libpod_parent/libpod-ID, cri-containerd-ID.scope, crio-ID.scope.
var cgroupPatterns = []struct {
	engine string
	re     *regexp.Regexp
}{
	{"podman", regexp.MustCompile(`libpod-([0-9a-f]{64})(?:\.scope)?(?:/|$)`)},
	{"docker", regexp.MustCompile(`docker[-/]([0-9a-f]{64})(?:\.scope)?(?:/|$)`)},
	{"containerd", regexp.MustCompile(`cri-containerd[-:]([0-9a-f]{64})(?:\.scope)?(?:/|$)`)},
	{"cri-o", regexp.MustCompile(`crio-([0-9a-f]{64})(?:\.scope)?(?:/|$)`)},
}

// maxProcFile bounds what is read of one /proc file.
const maxProcFile = 256 << 10

// Identify names the node of pid, whose network namespace is netns.
func Identify(env *probes.Env, pid int, netns string) Identity {
	id := Identity{PID: pid, NetNS: netns}
	if b, err := env.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid), maxProcFile); err == nil {
		id.Engine, id.ID = FromCgroup(b)
	}
	switch id.Engine {
	case "podman":
		id.Name = conmonName(env, pid)
	case "docker":
		id.Name = dockerName(env, id.ID)
	}
	id.Netns = netnsName(env, netns)
	return id
}

// FromCgroup finds the engine and container id in /proc/PID/cgroup's lines.
func FromCgroup(cgroup []byte) (engine, id string) {
	for _, line := range strings.Split(string(cgroup), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, p := range cgroupPatterns {
			if m := p.re.FindStringSubmatch(parts[2]); m != nil {
				return p.engine, m[1]
			}
		}
	}
	return "", ""
}

// conmonName is the name Podman gave the container, from the command line of the conmon
// process that supervises it (-n NAME), found among the JVM's ancestors.
func conmonName(env *probes.Env, pid int) string {
	for i := 0; i < 8 && pid > 1; i++ {
		pid = env.ParentPID(pid)
		b, err := env.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid), maxProcFile)
		if err != nil {
			return ""
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if filepath.Base(args[0]) != "conmon" {
			continue
		}
		if name := ConmonName(args); name != "" {
			return name
		}
	}
	return ""
}

// ConmonName reads -n NAME (or --name NAME, --name=NAME) from conmon's arguments.
func ConmonName(args []string) string {
	for i, a := range args {
		if (a == "-n" || a == "--name") && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--name="); ok {
			return v
		}
	}
	return ""
}

// dockerName is the name in Docker's state for the container (config.v2.json's "Name",
// "/web1"), where the engine keeps its state on this host.
func dockerName(env *probes.Env, id string) string {
	if id == "" {
		return ""
	}
	b, err := env.ReadFile("/var/lib/docker/containers/"+id+"/config.v2.json", 4<<20)
	if err != nil {
		return ""
	}
	var c struct{ Name string }
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return strings.TrimPrefix(c.Name, "/")
}

// netnsDirs hold the bind mounts that name network namespaces: ip netns's, and Docker's.
var netnsDirs = []string{"/run/netns", "/var/run/docker/netns"}

// netnsName finds the name ip netns gives the namespace: the entry of /run/netns whose
// inode is the namespace's. Equivalent to: ip netns identify PID.
func netnsName(env *probes.Env, netns string) string {
	ino, ok := nsInode(netns)
	if !ok {
		return ""
	}
	for _, dir := range netnsDirs {
		ents, err := os.ReadDir(env.Path(dir))
		if err != nil {
			continue
		}
		for _, e := range ents {
			var st syscall.Stat_t
			if syscall.Stat(filepath.Join(env.Path(dir), e.Name()), &st) == nil && st.Ino == ino {
				return e.Name()
			}
		}
	}
	return ""
}

// nsInode reads the inode of "net:[4026532281]".
func nsInode(netns string) (uint64, bool) {
	v, ok := strings.CutPrefix(netns, "net:[")
	if !ok || !strings.HasSuffix(v, "]") {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(v, "]"), 10, 64)
	return n, err == nil
}

// Select identifies the nodes (a JVM's PID and network namespace each) and keeps those
// --container names; every value must name one, or the run is bad input.
func Select(env *probes.Env, pids []int, netns []string, want []string) ([]Identity, error) {
	var all, out []Identity
	for i, pid := range pids {
		all = append(all, Identify(env, pid, netns[i]))
	}
	if len(want) == 0 {
		return all, nil
	}
	for _, v := range want {
		found := false
		for _, id := range all {
			if id.Matches(v) {
				found = true
				if !slices.Contains(out, id) {
					out = append(out, id)
				}
			}
		}
		if !found {
			return nil, &probes.UsageError{Flag: "--container", Value: v, Problem: "no Tomcat runs in such a container or network namespace here" + known(all)}
		}
	}
	return out, nil
}

// known lists the nodes there are, for the error of a --container that names none.
func known(all []Identity) string {
	if len(all) == 0 {
		return " (none found in another network namespace)"
	}
	var names []string
	for _, id := range all {
		names = append(names, id.Label())
	}
	return " (found: " + strings.Join(names, ", ") + ")"
}
