package tomcat

import (
	"fmt"
	"strings"
)

// classFact is what is known of a cluster class that some Tomcat versions lack: the
// configurations users copy from old how-tos name classes that are gone, and new ones
// name classes that old releases never had. Recorded from the apache/tomcat tags (see
// testdata/classes, which the tests check this table against).
type classFact struct {
	Class string
	// RemovedIn is the first series without the class ("" when it was never removed).
	RemovedIn string
	// Added is where the class first appeared (nil when every listed series has it).
	Added Since
	// Instead is what to write instead; Note says more.
	Instead, Note string
}

var classFacts = []classFact{
	{Class: "org.apache.catalina.tribes.group.interceptors.MessageDispatch15Interceptor", RemovedIn: "8.5",
		Instead: "org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor",
		Note:    "the Java 5 variant was merged into MessageDispatchInterceptor; how-tos for Tomcat 6 and 7 still name it"},
	{Class: "org.apache.catalina.ha.session.JvmRouteSessionIDBinderListener", RemovedIn: "8.0",
		Note: "remove it: from 8.0 on DeltaManager replicates the changed session id and JvmRouteBinderValve is all that is needed"},
	{Class: "org.apache.catalina.tribes.transport.bio.BioReceiver", RemovedIn: "10.0",
		Instead: "org.apache.catalina.tribes.transport.nio.NioReceiver", Note: "the blocking-I/O transport was removed"},
	{Class: "org.apache.catalina.tribes.transport.bio.BioSender", RemovedIn: "10.0",
		Instead: "org.apache.catalina.tribes.transport.nio.NioSender", Note: "the blocking-I/O transport was removed"},
	{Class: "org.apache.catalina.tribes.transport.bio.PooledMultiSender", RemovedIn: "10.0",
		Instead: "org.apache.catalina.tribes.transport.nio.PooledParallelSender", Note: "the blocking-I/O transport was removed"},
	{Class: "org.apache.catalina.tribes.transport.bio.MultipointBioSender", RemovedIn: "10.0",
		Instead: "org.apache.catalina.tribes.transport.nio.PooledParallelSender", Note: "the blocking-I/O transport was removed"},
	{Class: "org.apache.catalina.tribes.membership.StaticMembershipService", Added: Since{"9.0": 11, "10.0": 0},
		Instead: "org.apache.catalina.tribes.group.interceptors.StaticMembershipInterceptor",
		Note:    "before 9.0.11 static members are given to StaticMembershipInterceptor, with channelStartOptions=\"3\" on the Cluster so McastService does not start"},
	{Class: "org.apache.catalina.tribes.membership.cloud.CloudMembershipService", Added: Since{"9.0": 13, "10.0": 0},
		Note: "cloud membership needs Tomcat 9.0.13 or later"},
	{Class: "org.apache.catalina.tribes.membership.cloud.KubernetesMembershipProvider", Added: Since{"9.0": 13, "10.0": 0},
		Note: "cloud membership needs Tomcat 9.0.13 or later"},
	{Class: "org.apache.catalina.tribes.membership.cloud.DNSMembershipProvider", Added: Since{"9.0": 15, "10.0": 0},
		Note: "the DNS membership provider needs Tomcat 9.0.15 or later"},
	{Class: "org.apache.catalina.tribes.group.interceptors.EncryptInterceptor", Added: Since{"7.0": 100, "8.5": 38, "9.0": 13, "10.0": 0},
		Note: "EncryptInterceptor needs Tomcat 7.0.100, 8.5.38, 9.0.13 or later"},
}

// oldClusterPackage is Tomcat 5.5's cluster package; 6.0 replaced it with
// org.apache.catalina.ha and org.apache.catalina.tribes.
const oldClusterPackage = "org.apache.catalina.cluster."

// explainMissing says why a class is not in the installed jars, and what to write.
func explainMissing(class string, v Version, classes *ClassPath) (why, fix string) {
	for _, f := range classFacts {
		if f.Class != class {
			continue
		}
		switch {
		case f.RemovedIn != "":
			why = fmt.Sprintf("%s was removed in Tomcat %s (%s)", SimpleNameOf(class), f.RemovedIn, f.Note)
		case f.Added != nil:
			why = fmt.Sprintf("%s does not exist in Tomcat %s: %s", SimpleNameOf(class), v, f.Note)
		}
		if f.Instead != "" {
			fix = "use " + f.Instead
		} else {
			fix = f.Note
		}
		return why, fix
	}
	if strings.HasPrefix(class, oldClusterPackage) {
		return fmt.Sprintf("%s is a Tomcat 5.5 class name", class),
			"rewrite the <Cluster> from the cluster how-to of the installed version (org.apache.catalina.ha and org.apache.catalina.tribes since 6.0)"
	}
	if near := nearest(class, classes); near != "" {
		return fmt.Sprintf("no class %s in the installed jars", class), "did you mean " + near + "?"
	}
	return fmt.Sprintf("no class %s in the installed jars", class),
		"check the class name against the cluster reference of the installed version"
}

// SimpleNameOf is the class name without its package.
func SimpleNameOf(class string) string { return class[strings.LastIndexByte(class, '.')+1:] }

// nearest finds the loadable class closest to a misspelt one: in its package first, by
// edit distance on the whole name, within a third of its length.
func nearest(class string, classes *ClassPath) string {
	if classes == nil {
		return ""
	}
	pkg, _, _ := cutLast(class, ".")
	best, bestD := "", len(class)/3+1
	try := func(cands []string) {
		for _, c := range cands {
			if d := editDistance(strings.ToLower(c), strings.ToLower(class)); d < bestD {
				best, bestD = c, d
			}
		}
	}
	try(classes.InPackage(pkg))
	if best == "" {
		// a wrong package: look for the same simple name anywhere in the cluster packages
		simple := SimpleNameOf(class)
		for cls := range classes.where {
			if strings.HasPrefix(cls, "org.apache.catalina.") && strings.EqualFold(SimpleNameOf(cls), simple) {
				return cls
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
