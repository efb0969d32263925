package tomcat

import (
	"context"
	"fmt"
	"strings"
	"time"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Deployer is tomcat.deployer: the cluster's optional parts that work only in one place
// or one version. FarmWarDeployer works only inside a Host's <Cluster>: at Engine level
// Tomcat logs SEVERE "FarmWarDeployer can only work as host cluster subelement!" and
// ignores it. EncryptInterceptor changed its wire format twice (replay protection in
// 9.0.119, 10.1.56 and 11.0.23; the AES/GCM default in 9.0.121, 10.1.58 and 11.0.25):
// nodes on the two sides of a change cannot read each other.
type Deployer struct {
	Found *Found
}

// ID implements probes.Probe.
func (Deployer) ID() string { return "tomcat.deployer" }

// Timeout implements probes.Probe.
func (Deployer) Timeout() time.Duration { return Timeout }

// DependsOn implements probes.Dependent.
func (Deployer) DependsOn() []string { return []string{"tomcat.cluster"} }

// Run implements probes.Probe.
func (p Deployer) Run(ctx context.Context, env *probes.Env) probes.Result {
	if p.Found == nil || len(p.Found.Instances) == 0 {
		return noTomcat(p.ID(), p.Found)
	}
	return merge(p.ID(), each(p.ID(), p.Found, judgeDeployer))
}

func judgeDeployer(in *Instance) probes.Result {
	const id = "tomcat.deployer"
	ev := map[string]any{"base": in.Base}
	var notes []string
	for _, e := range in.Engines() {
		c := e.Cluster()
		if c == nil {
			continue
		}
		for _, d := range c.Deployers {
			if conf.SimpleName(conf.ClassName(d)) == "FarmWarDeployer" {
				ev["file"] = in.pos(d)
				return probes.WarnResult(id, fmt.Sprintf("%s: FarmWarDeployer at %s is in the Engine's <Cluster>: Tomcat ignores it", in.Label(), in.pos(d))).
					With("Tomcat logs SEVERE \"FarmWarDeployer can only work as host cluster subelement!\"; WARs are not farmed to the other nodes",
						"remove the <Deployer> (the cluster how-to's block is for a Host-level <Cluster>), or move a <Cluster> with it into the <Host>", ev)
			}
		}
	}
	c, _ := in.Cluster()
	if enc := c.Interceptor("EncryptInterceptor"); enc != nil {
		side := encryptSide(in.Version)
		ev["encrypt"], ev["encryptWire"] = in.pos(enc), side
		alg := enc.Value("encryptionAlgorithm")
		if alg == "" {
			alg = "the version's default"
		}
		notes = append(notes, fmt.Sprintf("EncryptInterceptor at %s with %s: wire format %s; every node must be on the same side of its changes (9.0.119/10.1.56/11.0.23 and 9.0.121/10.1.58/11.0.25)", in.pos(enc), alg, side))
	}
	summary := fmt.Sprintf("%s: no misplaced deployer", in.Label())
	if len(notes) > 0 {
		summary += "; " + notes[0]
	}
	return probes.PassResult(id, summary).With(strings.Join(notes, "; "), "", ev)
}

// encryptSide names which EncryptInterceptor wire format a version speaks.
func encryptSide(v Version) string {
	switch {
	case v.IsZero():
		return "unknown (version unknown)"
	case encryptGCM.In(v):
		return "3 (replay protection, AES/GCM by default)"
	case encryptReplay.In(v):
		return "2 (replay protection, AES/CBC by default)"
	}
	return "1 (no replay protection, AES/CBC by default)"
}
