package tomcat

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// AJP is tomcat.ajp: an AJP connector the web tier can use. Since 9.0.31, 8.5.51 and
// 7.0.100 an AJP connector without an address listens on loopback only, and one with
// secretRequired (the default) but no secret does not start at all: mod_jk on the web
// host then gets nothing.
type AJP struct {
	Found *Found
	// LocalTargets lists the AJP addresses (HOST:PORT) the web servers of this host
	// forward to (web.AJPTargets): a connector on loopback is reached only by them.
	LocalTargets func(env *probes.Env) []string
}

// ID implements probes.Probe.
func (AJP) ID() string { return "tomcat.ajp" }

// Timeout implements probes.Probe.
func (AJP) Timeout() time.Duration { return Timeout }

// Run implements probes.Probe.
func (p AJP) Run(ctx context.Context, env *probes.Env) probes.Result {
	if p.Found == nil || len(p.Found.Instances) == 0 {
		return noTomcat(p.ID(), p.Found)
	}
	var targets []string
	if p.LocalTargets != nil {
		targets = p.LocalTargets(env)
	}
	return merge(p.ID(), each(p.ID(), p.Found, func(in *Instance) probes.Result { return judgeAJP(in, targets) }))
}

// forwardsTo finds the web server target on this host that reaches a loopback connector
// on port: a mod_jk worker, BalancerMember or ProxyPass to 127.x, ::1 or localhost.
func forwardsTo(targets []string, port int) string {
	for _, t := range targets {
		host, p, err := net.SplitHostPort(t)
		if err != nil || p != strconv.Itoa(port) {
			continue
		}
		if a, err := netip.ParseAddr(host); host == "localhost" || err == nil && a.IsLoopback() {
			return t
		}
	}
	return ""
}

func judgeAJP(in *Instance, targets []string) probes.Result {
	const id = "tomcat.ajp"
	var ajp []*conf.Connector
	for _, c := range in.Connectors() {
		if c.AJP {
			ajp = append(ajp, c)
		}
	}
	ev := map[string]any{"base": in.Base}
	if len(ajp) == 0 {
		return probes.SkipResult(id, fmt.Sprintf("%s has no AJP connector (a web tier reaches it over HTTP)", in.Label())).With("", "", ev)
	}
	modern := in.Version.IsZero() || ajpLoopback.In(in.Version)
	var ok, warns []string
	for _, c := range ajp {
		where := in.pos(c.El)
		ev["file"], ev["port"] = where, c.Port
		required := modern
		if c.SecretRequired != nil {
			required = *c.SecretRequired
		}
		if required && !c.HasSecret {
			return probes.FailResult(id, fmt.Sprintf("%s: the AJP connector on port %d (%s) requires a secret and has none: Tomcat does not start it", in.Label(), c.Port, where)).
				With("Tomcat logs \"The AJP Connector is configured with secretRequired=\\\"true\\\" but the secret attribute is either null or \\\"\\\"\" and the web tier's workers fail",
					fmt.Sprintf("set secret=\"...\" on the connector at %s and the same secret on every mod_jk worker (worker.NAME.secret), or secretRequired=\"false\" on a trusted network", where), ev)
		}
		addr := c.Address
		loopback := false
		switch {
		case addr == "" && modern:
			loopback, addr = true, "loopback (the default since 9.0.31, 8.5.51 and 7.0.100)"
		case addr != "":
			if a, err := netip.ParseAddr(addr); err == nil {
				loopback = a.IsLoopback()
			} else {
				loopback = addr == "localhost"
			}
		default:
			addr = "every address"
		}
		ev["address"] = addr
		if loopback {
			local := forwardsTo(targets, c.Port)
			if local == "" {
				why := "no web server on this host forwards to it, so mod_jk connects from the web host and is refused"
				if len(targets) > 0 {
					why = "the web server on this host forwards AJP to " + strings.Join(targets, ", ") + " only; a web server on another host is refused"
				}
				return probes.FailResult(id, fmt.Sprintf("%s: the AJP connector on port %d listens on %s (%s): a web server on another host cannot reach it", in.Label(), c.Port, addr, where)).
					With(why, fmt.Sprintf("set address=\"THIS-HOSTS-CLUSTER-ADDRESS\" on the connector at %s (Tomcat logs the bound address in \"ajp-nio-ADDRESS-%d\")", where, c.Port), ev)
			}
			ok = append(ok, fmt.Sprintf("port %d on %s, for the web server on this host (it forwards to %s)", c.Port, addr, local))
			continue
		}
		secret := "no secret"
		if c.HasSecret {
			secret = "a secret (the web tier must send the same)"
		}
		ok = append(ok, fmt.Sprintf("port %d on %s with %s", c.Port, addr, secret))
		warns = append(warns, ajpExposure(in, c, addr)...)
	}
	if len(warns) > 0 {
		return probes.WarnResult(id, fmt.Sprintf("%s: %s", in.Label(), warns[0])).
			With(strings.Join(warns, "; ")+"; AJP trusts what the web server sends (request attributes, the remote address, the path to serve): whoever reaches the port is the web server (CVE-2020-1938, \"Ghostcat\", read files this way)",
				"set address=\"THIS-HOSTS-CLUSTER-ADDRESS\" and secret=\"...\" on the connector (and worker.NAME.secret on each mod_jk worker), and leave allowedRequestAttributesPattern to what the web tier really sends", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("%s: AJP connector %s", in.Label(), strings.Join(ok, "; "))).With("", "", ev)
}

// ajpExposure names what lets anyone who reaches a non-loopback AJP connector act as the
// web server: every address with no secret, and allowedRequestAttributesPattern=".*"
// (every request attribute taken, the file-read attack's way in).
func ajpExposure(in *Instance, c *conf.Connector, addr string) []string {
	var out []string
	if addr == "every address" || addr == "0.0.0.0" || addr == "::" || addr == "[::]" {
		if !c.HasSecret {
			out = append(out, fmt.Sprintf("the AJP connector on port %d (%s) listens on every address without a secret", c.Port, in.pos(c.El)))
		}
	}
	if v, ok := c.El.Get("allowedRequestAttributesPattern"); ok {
		switch strings.TrimSpace(v) {
		case ".*", "^.*$", ".+", "^.+$", "(.*)":
			out = append(out, fmt.Sprintf("allowedRequestAttributesPattern=%q on the AJP connector at %s lets every request attribute through", v, in.pos(c.El)))
		}
	}
	return out
}
