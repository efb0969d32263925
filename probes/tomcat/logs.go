package tomcat

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Logs is tomcat.logs: the instance's current logs read for the messages Tomcat writes
// when clustering breaks, each turned into its cause. It reads catalina.out and the newest
// file of every file handler logging.properties configures (an application's exception,
// such as the non-serializable attribute, lands in localhost.DATE.log), only the tail of
// each and only since the last start; without files, the journal of the Tomcat unit.
type Logs struct {
	Found *Found
	// PeersExpected is set when the cluster has other hosts (--peer or static members):
	// only then is "No members active" at start a finding, not the first node's normal.
	PeersExpected bool
}

// ID implements probes.Probe.
func (Logs) ID() string { return "tomcat.logs" }

// Timeout implements probes.Probe.
func (Logs) Timeout() time.Duration { return Timeout }

// maxLogTail is how much of the end of one log is read.
const maxLogTail = 1 << 20

// signature is a message Tomcat logs and what it means.
type signature struct {
	re     *regexp.Regexp
	status probes.Status
	cause  func(m []string) string
	fix    string
}

var signatures = []signature{
	{re: regexp.MustCompile(`setAttribute: Non-serializable attribute \[?([^\]\s]+)\]?`), status: probes.Fail,
		cause: func(m []string) string {
			return fmt.Sprintf("the application stores session attribute %q, whose class is not Serializable: Tomcat refuses it in a distributable application", m[1])
		},
		fix: "make the attribute's class (and everything it holds) implement java.io.Serializable"},
	{re: regexp.MustCompile(`Unable to serialize delta request for sessionid \[([^\]]*)\]`), status: probes.Fail,
		cause: func(m []string) string {
			return "a session attribute could not be serialized, so changes to session " + m[1] + " are not replicated"
		},
		fix: "make every session attribute Serializable (the exception after this line names the class)"},
	{re: regexp.MustCompile(`java\.io\.NotSerializableException: ([\w.$]+)`), status: probes.Fail,
		cause: func(m []string) string { return "class " + m[1] + " is stored in a session but is not Serializable" },
		fix:   "make it implement java.io.Serializable, or keep it out of the session"},
	{re: regexp.MustCompile(`Manager \[(.*?)\] does not implement ClusterManager`), status: probes.Fail,
		cause: func(m []string) string {
			return "an application's context has its own <Manager> (" + m[1] + "), which replaces the cluster's: its sessions are not replicated"
		},
		fix: "remove the <Manager> from conf/context.xml or the application's context.xml"},
	{re: regexp.MustCompile(`ClassNotFoundException: (org\.apache\.catalina\.(?:ha|tribes|cluster)\.[\w.$]+)`), status: probes.Fail,
		cause: func(m []string) string {
			return "server.xml names " + m[1] + ", which this Tomcat does not have: it did not start"
		},
		fix: "see tomcat.classes for what to write instead"},
	{re: regexp.MustCompile(`Unable to start cluster receiver`), status: probes.Fail,
		cause: func([]string) string {
			return "the replication receiver could not start: nothing can replicate to this node"
		},
		fix: "see tomcat.receiver: the Receiver address must be this host's, and a port of its range free"},
	{re: regexp.MustCompile(`Failed bind replication listener on address:\[([^\]]*)\]`), status: probes.Fail,
		cause: func(m []string) string { return "the Receiver could not bind " + m[1] },
		fix:   "set the Receiver address to an address this host holds"},
	{re: regexp.MustCompile(`Cannot start server\. Server instance is not configured`), status: probes.Fail,
		cause: func([]string) string { return "Tomcat refused its server.xml and did not start" },
		fix:   "the lines before it in the log name the element; see tomcat.classes"},
	{re: regexp.MustCompile(`The required Server component failed to start so Tomcat is unable to start`), status: probes.Fail,
		cause: func([]string) string { return "Tomcat did not start: a component failed to start" },
		fix:   "the exception logged just before names it (with McastService bind set, it is the membership: see tomcat.membership)"},
	{re: regexp.MustCompile(`Member send is failing for:\[(.*?)\]`), status: probes.Warn,
		cause: func(m []string) string {
			return "replication to a member failed (it was then suspected): " + shortMember(m[1])
		},
		fix: "check that member's Receiver port is open to this host (mcast-test tests TCP into the receiver range)"},
	{re: regexp.MustCompile(`Invalid package, should (?:start|end) with`), status: probes.Warn,
		cause: func([]string) string {
			return "datagrams that are not Tomcat heartbeats arrive on the membership group and port (another application, or a test tool, uses them)"
		},
		fix: "give this cluster a group and port of its own"},
	{re: regexp.MustCompile(`skipping state transfer\. No members active in cluster group`), status: probes.Warn,
		cause: func([]string) string {
			return "when an application started, no other member had been heard: it started with no sessions from the cluster"
		},
		fix: "normal on the first node to start; on any other node membership is not forming (see route.multicast, firewall.ports, and clusterdoctor mcast-test --peer across the hosts)"},
}

func shortMember(s string) string {
	if i := strings.Index(s, "host="); i >= 0 {
		return s[i:min(len(s), i+60)]
	}
	return s[:min(len(s), 80)]
}

// startMarkers are lines written once at every start: what follows the last of them is
// the current run.
var startMarkers = []string{"NOTE: Picked up JDK_JAVA_OPTIONS", "VersionLoggerListener.log Server version name", "Catalina.load Server initialization in"}

// Run implements probes.Probe.
func (p Logs) Run(ctx context.Context, env *probes.Env) probes.Result {
	if p.Found == nil || len(p.Found.Instances) == 0 {
		return noTomcat(p.ID(), p.Found)
	}
	var rs []probes.Result
	for _, in := range p.Found.Instances {
		rs = append(rs, judgeLogs(ctx, env, in, p.PeersExpected))
	}
	return merge(p.ID(), nameOnce(p.Found, rs))
}

// finding is one signature found, with its last occurrence.
type finding struct {
	sig   *signature
	match []string
	file  string
	line  int
	text  string
	count int
}

func judgeLogs(ctx context.Context, env *probes.Env, in *Instance, peersExpected bool) probes.Result {
	const id = "tomcat.logs"
	files := logFiles(env, in)
	ev := map[string]any{"base": in.Base}
	var texts []logText
	for _, f := range files {
		if t, ok := readLogTail(env, f, in.startedAt(env)); ok {
			texts = append(texts, t)
		}
	}
	if len(texts) == 0 && env.Journal != nil && in.PID > 0 {
		if b, unit, err := env.Journal(ctx, in.PID); err == nil && len(b) > 0 {
			texts = append(texts, logText{name: "journal of " + unit, text: sinceStart(string(b))})
		}
	}
	if len(texts) == 0 {
		return probes.SkipResult(id, fmt.Sprintf("%s: no log to read", in.Label())).
			With("looked at "+strings.Join(files, ", "), "", ev)
	}
	var found []*finding
	bySig := map[*signature]*finding{}
	var read []string
	for _, t := range texts {
		read = append(read, t.name)
		for i, line := range strings.Split(t.text, "\n") {
			for k := range signatures {
				s := &signatures[k]
				m := s.re.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				f := bySig[s]
				if f == nil {
					f = &finding{sig: s}
					bySig[s] = f
					found = append(found, f)
				}
				f.match, f.file, f.line, f.text, f.count = m, t.name, t.firstLine+i, strings.TrimSpace(line), f.count+1
			}
		}
	}
	ev["logs"] = read
	found = dropAnswered(found, texts, peersExpected)
	if len(found) == 0 {
		return probes.PassResult(id, fmt.Sprintf("%s: no known clustering problem in %s", in.Label(), strings.Join(read, ", "))).With("", "", ev)
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].sig.status == probes.Fail && found[j].sig.status != probes.Fail })
	var causes, fixes, lines []string
	for i, f := range found {
		where := fmt.Sprintf("%s:%d", filepath.Base(f.file), f.line)
		if f.count > 1 {
			where += fmt.Sprintf(", %d times", f.count)
		}
		if i == 0 {
			causes = append(causes, "logged at "+where+": "+f.text)
		} else {
			causes = append(causes, fmt.Sprintf("%s (%s)", f.sig.cause(f.match), where))
		}
		fixes = append(fixes, f.sig.fix)
		lines = append(lines, f.text)
	}
	ev["lines"] = lines
	top := found[0]
	r := probes.Result{ID: id, Status: top.sig.status,
		Summary:     fmt.Sprintf("%s: %s", in.Label(), top.sig.cause(top.match)),
		Detail:      strings.Join(causes, "; "),
		Remediation: strings.Join(dedupe(fixes), "; "), Evidence: ev}
	return r
}

// dropAnswered removes "No members active" when no peer is expected, or when a member
// joined later in the same run: the first node to start always logs it.
func dropAnswered(found []*finding, texts []logText, peersExpected bool) []*finding {
	joined := !peersExpected
	for _, t := range texts {
		joined = joined || strings.Contains(t.text, "Replication member added")
	}
	if !joined {
		return found
	}
	var out []*finding
	for _, f := range found {
		if !strings.Contains(f.sig.re.String(), "No members active") {
			out = append(out, f)
		}
	}
	return out
}

// logFiles lists catalina.out and the newest file of each file handler of
// logging.properties (prefix DATE suffix in its directory).
func logFiles(env *probes.Env, in *Instance) []string {
	out := []string{filepath.Join(in.Base, "logs", "catalina.out")}
	cfg := filepath.Join(in.Base, "conf", "logging.properties")
	if p, ok := in.Props.Get("java.util.logging.config.file"); ok {
		cfg = p.Value
	}
	b, err := readHost(env, cfg, conf.MaxPropertiesSize)
	if err != nil {
		return out
	}
	props, err := conf.ParseProperties(bytes.NewReader(b))
	if err != nil {
		return out
	}
	h, _ := props.Get("handlers")
	for _, name := range strings.FieldsFunc(h.Value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if !strings.Contains(name, "FileHandler") {
			continue
		}
		get := func(key, def string) string {
			if v, ok := props.Get(name + "." + key); ok {
				return in.Props.Replace(strings.TrimSpace(v.Value))
			}
			return def
		}
		dir := get("directory", filepath.Join(in.Base, "logs"))
		prefix, suffix := get("prefix", "juli."), get("suffix", ".log")
		if newest := newestMatching(env, dir, prefix, suffix); newest != "" {
			out = append(out, newest)
		}
	}
	return out
}

func newestMatching(env *probes.Env, dir, prefix, suffix string) string {
	ents, err := os.ReadDir(env.HostPath(dir))
	if err != nil {
		return ""
	}
	var best string
	var bestTime time.Time
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, suffix) {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().After(bestTime) {
			best, bestTime = filepath.Join(dir, n), info.ModTime()
		}
	}
	return best
}

// logText is the part of a log that belongs to the current run.
type logText struct {
	name      string
	text      string
	firstLine int // line number of text's first line in the part read
}

// readLogTail reads the end of a log and keeps what follows the last start; a file not
// written since the running instance started belongs to an earlier run.
func readLogTail(env *probes.Env, path string, started time.Time) (logText, bool) {
	f, err := os.Open(env.HostPath(path))
	if err != nil {
		return logText{}, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || (!started.IsZero() && st.ModTime().Before(started)) {
		return logText{}, false
	}
	off := max(0, st.Size()-maxLogTail)
	b, err := io.ReadAll(io.NewSectionReader(f, off, maxLogTail))
	if err != nil {
		return logText{}, false
	}
	text := string(b)
	if off > 0 {
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[i+1:] // a cut line is not a line
		}
	}
	cut := sinceStart(text)
	first := 1 + strings.Count(text[:len(text)-len(cut)], "\n")
	return logText{name: path, text: cut, firstLine: first}, true
}

func sinceStart(text string) string {
	at := -1
	for _, m := range startMarkers {
		if i := strings.LastIndex(text, m); i > at {
			at = i
		}
	}
	if at < 0 {
		return text
	}
	if nl := strings.LastIndexByte(text[:at], '\n'); nl >= 0 {
		return text[nl+1:]
	}
	return text[at:]
}

// startedAt is when the running instance's JVM started (zero if unknown or not running):
// its start time in clock ticks after boot (/proc/PID/stat, field 22) plus the boot time
// (/proc/stat btime). Equivalent to: ps -o lstart= -p PID.
func (in *Instance) startedAt(env *probes.Env) time.Time {
	if in.PID <= 0 {
		return time.Time{}
	}
	stat, err := env.ReadFile(fmt.Sprintf("/proc/%d/stat", in.PID), 64<<10)
	if err != nil {
		return time.Time{}
	}
	// the command name may hold spaces and parentheses: fields start after the last ')'
	rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
	f := strings.Fields(rest)
	sys, err := env.ReadFile("/proc/stat", 1<<20)
	if len(f) < 20 || err != nil {
		return time.Time{}
	}
	var ticks, btime int64
	fmt.Sscan(f[19], &ticks)
	for _, line := range strings.Split(string(sys), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			fmt.Sscan(v, &btime)
		}
	}
	if btime == 0 {
		return time.Time{}
	}
	const clockTicks = 100 // USER_HZ, the same on every Linux architecture Go supports
	return time.Unix(btime, 0).Add(time.Duration(ticks) * time.Second / clockTicks).Add(-2 * time.Second)
}
