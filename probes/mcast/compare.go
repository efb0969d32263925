package mcast

import (
	"fmt"
	"slices"
	"strings"
)

// Difference is one way two hosts' settings differ that matters for the cluster.
type Difference struct {
	What  string `json:"what"`
	Here  string `json:"here"`
	There string `json:"there"`
	// Breaks: clustering does not work with it; otherwise it weakens it.
	Breaks bool   `json:"breaks"`
	Why    string `json:"why"`
}

// Compare lists what differs between this host's settings and a peer's that breaks or
// weakens clustering. Fields a side does not know (no Tomcat there) are not compared.
func Compare(here, there Info) []Difference {
	var out []Difference
	add := func(what, h, t string, breaks bool, why string) {
		out = append(out, Difference{What: what, Here: h, There: t, Breaks: breaks, Why: why})
	}
	known := func(a, b string) bool { return a != "" && b != "" }
	if known(here.Membership, there.Membership) && here.Membership != there.Membership {
		add("membership", here.Membership, there.Membership, true, "one host finds members by multicast, the other does not: they never see each other")
	}
	if here.Membership == "multicast" && there.Membership == "multicast" {
		if known(here.Group, there.Group) && (here.Group != there.Group || here.Port != there.Port) {
			add("group", fmt.Sprintf("%s:%d", here.Group, here.Port), fmt.Sprintf("%s:%d", there.Group, there.Port), true,
				"another membership group or port: the two never hear each other's heartbeats")
		}
		if here.Domain != there.Domain && (here.Domain != "" || there.Domain != "") {
			add("domain", here.Domain, there.Domain, true, "another membership domain: Tomcat ignores members of other domains")
		}
	}
	if known(here.JvmRoute, there.JvmRoute) && here.JvmRoute == there.JvmRoute {
		add("jvmRoute", here.JvmRoute, there.JvmRoute, true,
			"both Engines have this jvmRoute: the balancer cannot tell their sessions apart and sends both nodes' users to one")
	}
	encHere, encThere := here.Encrypt, there.Encrypt
	if known(here.Tomcat, there.Tomcat) || here.Encrypt != "" || there.Encrypt != "" {
		switch {
		case encHere != "" && encThere == "" && there.Tomcat != "", encHere == "" && encThere != "" && here.Tomcat != "":
			add("EncryptInterceptor", orNone(encHere), orNone(encThere), true, "one side encrypts and the other does not: neither can read the other's messages")
		case known(encHere, encThere) && encHere != encThere:
			add("EncryptInterceptor", encHere, encThere, true,
				"the two Tomcats' EncryptInterceptor speaks different wire formats or algorithms: neither can decrypt the other")
		}
	}
	if known(here.Tomcat, there.Tomcat) && major(here.Tomcat) != major(there.Tomcat) {
		add("Tomcat", here.Tomcat, there.Tomcat, false,
			"different Tomcat major versions: sessions hold classes of two Servlet APIs and Tribes messages may not be compatible")
	}
	if len(here.Interceptors) > 0 && len(there.Interceptors) > 0 && !slices.Equal(here.Interceptors, there.Interceptors) {
		add("interceptors", strings.Join(here.Interceptors, ","), strings.Join(there.Interceptors, ","), false,
			"different interceptor stacks: messages one side's interceptors add or expect the other does not handle")
	}
	if known(here.ChannelSendOptions, there.ChannelSendOptions) && here.ChannelSendOptions != there.ChannelSendOptions {
		add("channelSendOptions", here.ChannelSendOptions, there.ChannelSendOptions, false,
			"the hosts replicate with different guarantees (synchronous, acknowledged or not)")
	}
	if known(here.Manager, there.Manager) && here.Manager != there.Manager {
		add("manager", here.Manager, there.Manager, false, "different session managers: a DeltaManager and a BackupManager do not share sessions")
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}
