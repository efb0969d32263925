package probes

import (
	"fmt"
	"strconv"
	"strings"
)

// NodeIdentity is what the host knows of a node: the engine and container where the cgroup
// path or the engine's state says it, the `ip netns` name where there is one.
type NodeIdentity struct {
	// PID is the JVM's process; NetNS its network namespace ("net:[4026532281]").
	PID   int    `json:"pid"`
	NetNS string `json:"netns"`
	// Engine is docker, podman, containerd or cri-o; ID the container's id and Name its
	// name as the engine shows it ("" where unknown).
	Engine string `json:"engine,omitempty"`
	ID     string `json:"containerId,omitempty"`
	Name   string `json:"container,omitempty"`
	// Netns is the namespace's name under /run/netns (ip netns list), if it has one.
	Netns string `json:"netnsName,omitempty"`
}

// Label names the node in reports: the container's name, else its id, else the
// namespace's name, else the PID and the namespace.
func (id NodeIdentity) Label() string {
	short := id.ID
	if len(short) > 12 {
		short = short[:12]
	}
	switch {
	case id.Name != "" && id.Engine != "":
		return fmt.Sprintf("%s container %s", id.Engine, id.Name)
	case id.Name != "":
		return "container " + id.Name
	case short != "":
		return fmt.Sprintf("%s container %s", id.Engine, short)
	case id.Netns != "":
		return "network namespace " + id.Netns
	}
	return fmt.Sprintf("pid %d in %s", id.PID, id.NetNS)
}

// Matches tells whether --container's value names this node: the container's name, a
// prefix of its id (4 characters at least), the namespace's name, or the PID.
func (id NodeIdentity) Matches(v string) bool {
	switch {
	case v == "":
		return false
	case v == id.Name, v == id.Netns, v == strconv.Itoa(id.PID):
		return true
	case len(v) >= 4 && strings.HasPrefix(id.ID, v):
		return true
	}
	return false
}

// NodeReport is the preflight of one node, run in its namespaces by the host's
// clusterdoctor: who it is, and its report (or why there is none).
type NodeReport struct {
	Node NodeIdentity `json:"node"`
	// Name is Node's label, as the text report heads the node's checks.
	Name string `json:"name"`
	// ExitCode is the node's own run's exit code.
	ExitCode int     `json:"exitCode"`
	Error    string  `json:"error,omitempty"`
	Report   *Report `json:"report,omitempty"`
}
