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
)

// defaultConfig is read when present and --config is not given.
const defaultConfig = "/etc/clusterdoctor/clusterdoctor.yaml"

// settingsFlags are the flags shared by the commands that check a cluster.
type settingsFlags struct {
	iface, group, receiverPorts, config, root string
	mcastPort, ajpPort                        int
	peers                                     []string
	timeout                                   time.Duration
}

func (f *settingsFlags) register(fs *pflag.FlagSet) {
	d := probes.Defaults()
	fs.StringVar(&f.iface, "iface", "", "cluster interface (default: derived from the host name, peers or default route)")
	fs.StringVar(&f.group, "group", d.Group.String(), "membership multicast group (McastService address)")
	fs.IntVar(&f.mcastPort, "mcast-port", d.McastPort, "membership UDP port")
	fs.StringVar(&f.receiverPorts, "receiver-ports", d.ReceiverPorts.String(), "replication receiver TCP range A-B")
	fs.IntVar(&f.ajpPort, "ajp-port", d.AJPPort, "AJP connector TCP port")
	fs.StringArrayVar(&f.peers, "peer", nil, "another cluster host, name or address (repeatable)")
	fs.StringVar(&f.config, "config", "", "settings file (default "+defaultConfig+" if present)")
	fs.StringVar(&f.root, "root", d.Root, "read /etc, /proc and /sys under this directory")
	fs.DurationVar(&f.timeout, "timeout", time.Duration(d.Timeout), "overall deadline")
}

// settings layers defaults, the config file, then the flags given on the command line.
func (f *settingsFlags) settings(fs *pflag.FlagSet) (probes.Settings, error) {
	s := probes.Defaults()
	path, explicit := f.config, fs.Changed("config")
	if !explicit {
		path = defaultConfig
	}
	if b, err := os.Open(path); err == nil {
		s, err = probes.LoadConfig(b, s)
		b.Close()
		if err != nil {
			return s, fmt.Errorf("--config %s: %w", path, err)
		}
	} else if explicit || !errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("--config: %w", err)
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
	if fs.Changed("root") {
		s.Root = f.root
	}
	if fs.Changed("timeout") {
		s.Timeout = probes.Duration(f.timeout)
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	if st, err := os.Stat(s.Root); err != nil || !st.IsDir() {
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
