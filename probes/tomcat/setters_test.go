package tomcat

import (
	"context"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"maps"
	"strings"
	"testing"
)

// TestSettersFromTheInstalledJars: what the digester can set, read from the real Debian
// Tomcat 10.1's class files: the cluster how-to's block has no attribute Tomcat ignores;
// misspelt ones and one of DeltaManager's on BackupManager are named with the nearest
// real property.
func TestSettersFromTheInstalledJars(t *testing.T) {
	base := t.TempDir()
	server := func(engine, cluster string) string {
		return `<Server port="-1"><Service name="Catalina"><Engine name="Catalina" defaultHost="localhost"` + engine + `>
  <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" channelSendOptions="8">` + cluster + `</Cluster>
  <Host name="localhost" appBase="webapps"/></Engine></Service></Server>`
	}
	howto := `<Manager className="org.apache.catalina.ha.session.DeltaManager" expireSessionsOnShutdown="false" notifyListenersOnReplication="true"/>
  <Channel className="org.apache.catalina.tribes.group.GroupChannel">
    <Membership className="org.apache.catalina.tribes.membership.McastService" address="228.0.0.4" port="45564" frequency="500" dropTime="3000"/>
    <Receiver className="org.apache.catalina.tribes.transport.nio.NioReceiver" address="auto" port="4000" autoBind="100" selectorTimeout="5000" maxThreads="6"/>
    <Sender className="org.apache.catalina.tribes.transport.ReplicationTransmitter"><Transport className="org.apache.catalina.tribes.transport.nio.PooledParallelSender"/></Sender>
    <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>
    <Interceptor className="org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"/>
  </Channel>
  <Valve className="org.apache.catalina.ha.tcp.ReplicationValve" filter=""/>
  <Valve className="org.apache.catalina.ha.session.JvmRouteBinderValve"/>
  <Deployer className="org.apache.catalina.ha.deploy.FarmWarDeployer" tempDir="/tmp/war-temp/" deployDir="/tmp/war-deploy/" watchDir="/tmp/war-listen/" watchEnabled="false"/>
  <ClusterListener className="org.apache.catalina.ha.session.ClusterSessionListener"/>`
	for _, c := range []struct {
		name, engine, cluster string
		want                  []string
	}{
		{"the how-to's block", ` jvmRoute="tomcat1"`, howto, nil},
		{"jvmRouter", ` jvmRouter="tomcat1"`, howto, []string{`Tomcat ignores jvmRouter="tomcat1" on <Engine>`, "StandardEngine has no such property (did you mean jvmRoute?)"}},
		{"selectTimeout", ` jvmRoute="tomcat1"`, strings.Replace(howto, "selectorTimeout", "selectTimeout", 1),
			[]string{`Tomcat ignores selectTimeout="5000" on <Receiver>`, "did you mean selectorTimeout?"}},
		{"a DeltaManager setting on BackupManager", ` jvmRoute="tomcat1"`,
			strings.Replace(howto, `ha.session.DeltaManager" expireSessionsOnShutdown="false"`, `ha.session.BackupManager" stateTransferTimeout="60"`, 1),
			[]string{`Tomcat ignores stateTransferTimeout="60" on <Manager>`, "BackupManager has no such property"}},
		{"an attribute of an older Tomcat", ` jvmRoute="tomcat1"`,
			strings.Replace(howto, `expireSessionsOnShutdown="false"`, `persistAuthenticationNotes="true"`, 1),
			[]string{`Tomcat ignores persistAuthenticationNotes="true" on <Manager>`, "DeltaManager has no such property in 10.1.60 (Tomcat 8.5.100 and 9.0.121 had it)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := ofInstalledTomcat(t, instanceOf(t, base, server(c.engine, c.cluster), "10.1.60"))
			got := ignoredAttributes(in, in.ClassPath())
			if len(got) != len(c.want) && !(len(c.want) > 0 && len(got) == 1) {
				t.Fatalf("ignored = %q; want %d", got, len(c.want))
			}
			joined := strings.Join(got, "\n")
			for _, w := range c.want {
				if !strings.Contains(joined, w) {
					t.Errorf("ignored = %q; want %q", got, w)
				}
			}
		})
	}
}

// TestRecordedSettersMatchTheJars: the setters recorded from the 10.1 sources are the
// ones the installed Tomcat 10.1's class files have, class by class.
func TestRecordedSettersMatchTheJars(t *testing.T) {
	in := ofInstalledTomcat(t, &Instance{Base: t.TempDir()})
	cp := in.ClassPath()
	rec := recordedSetters("10.1.59")
	if len(rec) < 50 {
		t.Fatalf("recorded setters of 10.1.59: %d classes", len(rec))
	}
	for class, want := range rec {
		got, ok := cp.Setters(class)
		if !ok {
			t.Errorf("%s: recorded, but not readable from %s/lib", class, in.Home)
			continue
		}
		if got.Any != want.Any || !maps.Equal(got.Setters, want.Setters) {
			var only, missing []string
			for s := range got.Setters {
				if !want.Setters[s] {
					only = append(only, s)
				}
			}
			for s := range want.Setters {
				if !got.Setters[s] {
					missing = append(missing, s)
				}
			}
			t.Errorf("%s: the jars have %v more, %v fewer than recorded (setProperty %v, recorded %v)", class, only, missing, got.Any, want.Any)
		}
	}
}

// TestCloudProviderClass: a membershipProviderClassName the installed jars do not have
// fails, naming the nearest class.
func TestCloudProviderClass(t *testing.T) {
	in := ofInstalledTomcat(t, instanceOf(t, t.TempDir(), `<Server><Service><Engine name="Catalina"><Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster">
  <Channel className="org.apache.catalina.tribes.group.GroupChannel">
    <Membership className="org.apache.catalina.tribes.membership.cloud.CloudMembershipService" membershipProviderClassName="org.apache.catalina.tribes.membership.cloud.DNSMembershipProvidr"/>
  </Channel></Cluster></Engine></Service></Server>`, "10.1.60"))
	env, err := probes.NewEnv("/")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	r := MembershipCheck{Found: &Found{Instances: []*Instance{in}}}.Run(context.Background(), env)
	if r.Status != probes.Fail || !strings.Contains(r.Summary, "did you mean org.apache.catalina.tribes.membership.cloud.DNSMembershipProvider") {
		t.Errorf("tomcat.membership = %s %q; want fail naming the nearest class", r.Status, r.Summary)
	}
}
