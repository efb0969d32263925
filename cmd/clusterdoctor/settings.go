package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/preflight"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
)

// defaultConfig is read when present and --config is not given.
const defaultConfig = "/etc/clusterdoctor/clusterdoctor.yaml"

// settingsFlags are the flags shared by the commands that check a cluster.
type settingsFlags struct {
	iface, group, receiverPorts, config, root string
	tomcat, tomcatHome                        string
	mcastPort, ajpPort                        int
	peers, webPeers, roles                    []string
	timeout                                   time.Duration
	// node is preflight's hidden --node PID: this run checks the node whose namespaces
	// the host's clusterdoctor started it in.
	node int
	// explicit maps the settings given by flag or config file to "flag" or "config":
	// those are not taken from server.xml.
	explicit map[string]string
}

func (f *settingsFlags) register(fs *pflag.FlagSet) {
	d := probes.Defaults()
	fs.StringVar(&f.iface, "iface", "", "cluster interface (default: derived from the host name, peers or default route)")
	fs.StringVar(&f.group, "group", d.Group.String(), "membership multicast group (McastService address)")
	fs.IntVar(&f.mcastPort, "mcast-port", d.McastPort, "membership UDP port")
	fs.StringVar(&f.receiverPorts, "receiver-ports", d.ReceiverPorts.String(), "replication receiver TCP range A-B")
	fs.IntVar(&f.ajpPort, "ajp-port", d.AJPPort, "AJP connector TCP port (0: there is none)")
	fs.StringArrayVar(&f.peers, "peer", nil, "another cluster host, name or address (repeatable)")
	fs.StringVar(&f.tomcat, "tomcat", "", "CATALINA_BASE to read server.xml from (default: the running Tomcat, $CATALINA_BASE, the usual places)")
	fs.StringVar(&f.tomcatHome, "tomcat-home", "", "CATALINA_HOME, when it cannot be found from the base")
	fs.StringVar(&f.config, "config", "", "settings file (default "+defaultConfig+" if present)")
	fs.StringVar(&f.root, "root", d.Root, "read /etc, /proc and /sys under this directory")
	fs.DurationVar(&f.timeout, "timeout", time.Duration(d.Timeout), "overall deadline")
}

// registerRole adds --role, for the commands whose checks depend on what the host is
// (preflight and the agent).
func (f *settingsFlags) registerRole(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.roles, "role", nil, "what this host is: web (httpd or nginx balancing), was (Tomcat), or web,was (default: detected)")
	fs.StringArrayVar(&f.webPeers, "web-peer", nil, "a web host of the cluster: a peer whose requests this host takes, but no Tomcat member (repeatable)")
}

// settings layers defaults, the config file, then the flags given on the command line.
func (f *settingsFlags) settings(fs *pflag.FlagSet) (probes.Settings, error) {
	s := probes.Defaults()
	path, explicit := f.config, fs.Changed("config")
	if !explicit {
		path = defaultConfig
	}
	f.explicit = map[string]string{}
	if f.node > 0 && !explicit {
		// The host's settings file describes the host, not the containers on it.
	} else if b, err := os.Open(path); err == nil {
		var keys []string
		s, keys, err = probes.LoadConfig(b, s)
		b.Close()
		if err != nil {
			return s, fmt.Errorf("--config %s: %w", path, err)
		}
		for _, k := range keys {
			f.explicit[k] = "config"
		}
	} else if explicit || !errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("--config: %w", err)
	}
	for flag, key := range map[string]string{"iface": "iface", "group": "group", "mcast-port": "mcastPort",
		"receiver-ports": "receiverPorts", "ajp-port": "ajpPort", "peer": "peers", "web-peer": "webPeers", "role": "roles"} {
		if fs.Changed(flag) {
			f.explicit[key] = "flag"
		}
	}
	if fs.Changed("iface") {
		s.Iface = f.iface
	}
	if fs.Changed("group") {
		g, err := netip.ParseAddr(f.group)
		if err != nil {
			return s, &probes.UsageError{Flag: "--group", Value: f.group, Problem: "not an IP address (Tomcat's default is 228.0.0.4)"}
		}
		s.Group = g
	}
	if fs.Changed("mcast-port") {
		s.McastPort = f.mcastPort
	}
	if fs.Changed("receiver-ports") {
		r, err := probes.ParsePortRange(f.receiverPorts)
		if err != nil {
			return s, &probes.UsageError{Flag: "--receiver-ports", Value: f.receiverPorts, Problem: err.Error()}
		}
		s.ReceiverPorts = r
	}
	if fs.Changed("ajp-port") {
		s.AJPPort = f.ajpPort
	}
	if fs.Changed("peer") {
		s.Peers = f.peers
	}
	if fs.Changed("web-peer") {
		s.WebPeers = f.webPeers
	}
	if fs.Changed("role") {
		s.Roles = f.roles
	}
	if fs.Changed("root") {
		s.Root = f.root
	}
	if fs.Changed("tomcat") {
		s.Tomcat = f.tomcat
	}
	if fs.Changed("tomcat-home") {
		s.TomcatHome = f.tomcatHome
	}
	if s.TomcatHome != "" && s.Tomcat == "" {
		return s, &probes.UsageError{Flag: "--tomcat-home", Value: s.TomcatHome, Problem: "goes with --tomcat (name the CATALINA_BASE too)"}
	}
	if fs.Changed("timeout") {
		s.Timeout = probes.Duration(f.timeout)
	}
	if f.node > 0 {
		s.Node, s.Root = f.node, fmt.Sprintf("/proc/%d/root", f.node)
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	if s.Node > 0 {
		if _, err := os.Stat(s.Root); errors.Is(err, os.ErrNotExist) {
			return s, &probes.UsageError{Flag: "--node", Value: fmt.Sprint(s.Node), Problem: "no such process"}
		} else if err != nil {
			return s, &probes.UsageError{Flag: "--node", Value: fmt.Sprint(s.Node), Problem: "its files cannot be read: " + err.Error()}
		}
	} else if st, err := os.Stat(s.Root); err != nil || !st.IsDir() {
		return s, &probes.UsageError{Flag: "--root", Value: s.Root, Problem: "not a directory"}
	}
	return s, nil
}

// checkIDs validates --skip/--ignore values against the known check IDs.
func checkIDs(flag string, ids, known []string) error {
	for _, id := range ids {
		if id == "all" && flag == "--ignore" {
			continue
		}
		found := false
		for _, k := range known {
			found = found || k == id
		}
		if !found {
			return &probes.UsageError{Flag: flag, Value: id, Problem: "unknown check id (known: " + strings.Join(known, ", ") + ")"}
		}
	}
	return nil
}

// clusterSettings finds the Tomcat instances (unless --tomcat names one) and takes from
// the first one's server.xml every setting the operator did not give. An explicit
// --tomcat that is not a CATALINA_BASE is bad input (exit 2).
func clusterSettings(ctx context.Context, env *probes.Env, s probes.Settings, explicit map[string]string) (probes.Settings, *tomcat.Found, error) {
	opt := tomcat.Options{Base: s.Tomcat, Home: s.TomcatHome}
	if env.LiveRoot() {
		opt.EnvBase, opt.EnvHome = os.Getenv("CATALINA_BASE"), os.Getenv("CATALINA_HOME")
		opt.JavaOpts, opt.CatalinaOpts = os.Getenv("JAVA_OPTS"), os.Getenv("CATALINA_OPTS")
	}
	found, err := tomcat.Discover(ctx, env, opt)
	if err != nil {
		return s, nil, usage(err)
	}
	tomcat.Derive(found, &s, explicit)
	if err := s.Validate(); err != nil {
		return s, nil, usage(fmt.Errorf("the settings taken from server.xml: %w", err))
	}
	return s, found, nil
}

// clusterIface derives the cluster interface for a command: a named interface that does
// not exist is bad input (exit 2); failing to ask the kernel means the run cannot go on
// (exit 3).
func clusterIface(ctx context.Context, env *probes.Env, s probes.Settings) (preflight.Choice, error) {
	choice, err := preflight.ClusterIface(ctx, env, s)
	var ue *probes.UsageError
	switch {
	case errors.As(err, &ue):
		return choice, usage(err)
	case err != nil:
		return choice, incomplete(fmt.Errorf("find the cluster interface: %w", err))
	}
	return choice, nil
}
