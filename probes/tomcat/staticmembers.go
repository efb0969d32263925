package tomcat

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// parseUniqueID reads a uniqueId as StaticMember.setUniqueId does: Arrays.fromString
// ("{" first, then the tokens between '{', ',' and '}', each Byte.parseByte, so no spaces
// and -128..127) and exactly 16 bytes, else Tomcat throws while it reads server.xml.
func parseUniqueID(s string) ([]byte, error) {
	if !strings.HasPrefix(s, "{") {
		return nil, errors.New("it does not start with \"{\" (Arrays.fromString: \"Array is malformed\")")
	}
	var out []byte
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == '{' || r == ',' || r == '}' }) {
		n, err := strconv.ParseInt(tok, 10, 8)
		if err != nil {
			return nil, fmt.Errorf("%q is not a byte (Byte.parseByte takes -128..127, no spaces: NumberFormatException)", tok)
		}
		out = append(out, byte(n))
	}
	if len(out) != 16 {
		return nil, fmt.Errorf("it has %d bytes (\"UUID must be exactly 16 bytes\")", len(out))
	}
	return out, nil
}

// staticProblems are what Tomcat refuses or gets wrong in the static members: a uniqueId
// it cannot read (it does not start), two members with one uniqueId or one host:port,
// a member with the local member's uniqueId.
func staticProblems(in *Instance, m membership) []string {
	var out []string
	ids := map[string]string{} // uniqueId bytes -> where
	check := func(e *conf.Element, what string) {
		v, ok := e.Get("uniqueId")
		if !ok {
			return
		}
		id, err := parseUniqueID(strings.TrimSpace(v))
		if err != nil {
			out = append(out, fmt.Sprintf("%s uniqueId=%q at %s: %v; Tomcat refuses server.xml and does not start", what, v, in.pos(e), err))
			return
		}
		key := string(id)
		if first, dup := ids[key]; dup {
			out = append(out, fmt.Sprintf("%s at %s has the uniqueId of the one at %s: each node needs its own", what, in.pos(e), first))
			return
		}
		ids[key] = in.pos(e)
	}
	if m.Local != nil {
		check(m.Local, "<LocalMember>")
	}
	seen := map[string]string{}
	for _, sm := range m.Static {
		check(sm.El, "<Member>")
		key := fmt.Sprintf("%s:%d", strings.ToLower(sm.Host), sm.Port)
		if first, dup := seen[key]; dup {
			out = append(out, fmt.Sprintf("<Member> %s at %s is listed again at %s", key, first, in.pos(sm.El)))
		}
		seen[key] = in.pos(sm.El)
	}
	return out
}

// missingLocal is StaticMembershipService's start failure: without a <LocalMember> it
// takes the <Member> whose host is the Receiver's address and whose port its port
// (findLocalMember), and without one throws "There is no localMember in static member
// list" and the cluster does not start. "" when the local member is there.
func missingLocal(ctx context.Context, env *probes.Env, in *Instance, m membership, res *resolve.Resolver) string {
	if !m.Service || m.Local != nil {
		return ""
	}
	c, _ := in.Cluster()
	r := receiverOf(in, c)
	addr, _, err := receiverAddress(ctx, env, res, r.Address)
	if err != nil {
		return "" // tomcat.receiver says why
	}
	for _, sm := range m.Static {
		a, err := netip.ParseAddr(sm.Host)
		if err != nil {
			ans, lerr := res.Lookup(ctx, sm.Host)
			if lerr != nil {
				continue
			}
			a = ans.First()
		}
		if a == addr && sm.Port == r.Port {
			return ""
		}
	}
	return fmt.Sprintf("StaticMembershipService at %s has no <LocalMember> and no <Member> at this node's Receiver %s:%d: Tomcat throws \"There is no localMember in static member list\" and the cluster does not start",
		in.pos(m.El), addr, r.Port)
}

// staticInterceptorWarnings are the ones StaticMembershipInterceptor.start logs itself,
// for the interceptors it looks for before it in the channel (getPrevious: listed earlier
// in <Channel>): without TcpFailureDetector "automatic detection of static members does not
// work properly", without TcpPingInterceptor "the health check of static members does not
// work properly", so a member that restarts is not found again.
func staticInterceptorWarnings(in *Instance, m membership) []string {
	if m.Service || m.StaticEl == nil {
		return nil
	}
	c, _ := in.Cluster()
	var failure, ping bool
	for _, e := range c.Interceptors {
		if e == m.StaticEl {
			break
		}
		switch conf.SimpleName(conf.ClassName(e)) {
		case "TcpFailureDetector":
			failure = true
		case "TcpPingInterceptor":
			ping = true
		}
	}
	var out []string
	if !failure {
		out = append(out, fmt.Sprintf("no TcpFailureDetector before the StaticMembershipInterceptor at %s: Tomcat warns \"There is no TcpFailureDetector. Automatic detection of static members does not work properly\"", in.pos(m.StaticEl)))
	}
	if !ping {
		out = append(out, fmt.Sprintf("no TcpPingInterceptor before the StaticMembershipInterceptor at %s: Tomcat warns \"There is no TcpPingInterceptor. The health check of static members does not work properly\", so a member that restarts is not found again", in.pos(m.StaticEl)))
	}
	return out
}
