package main_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// tcConf shapes the server.xml of a lab Tomcat: the cluster how-to's block (DeltaManager,
// McastService, NioReceiver with autoBind, the docs' interceptors and valves) with the
// variations a test needs.
type tcConf struct {
	JvmRoute     string   // "" leaves jvmRoute out
	ClusterAttrs string   // extra <Cluster> attributes
	Membership   string   // the <Membership> element; "" for the docs' McastService
	Receiver     string   // extra <Receiver> attributes; address="auto" port="4000" autoBind="100" by default
	Interceptors []string // class names; the docs' TcpFailureDetector and MessageDispatchInterceptor by default
	Extra        string   // more elements inside <Cluster> (a Deployer)
	AJP          string   // the AJP <Connector>; "" for none
	HTTPPort     int      // 8080 by default
	Shutdown     int      // the <Server> shutdown port; -1 (none) by default
	NoCluster    bool
}

func (c tcConf) serverXML() string {
	if c.HTTPPort == 0 {
		c.HTTPPort = 8080
	}
	if c.Shutdown == 0 {
		c.Shutdown = -1
	}
	route := ""
	if c.JvmRoute != "" {
		route = fmt.Sprintf(` jvmRoute="%s"`, c.JvmRoute)
	}
	if c.Membership == "" {
		c.Membership = `<Membership className="org.apache.catalina.tribes.membership.McastService"
                        address="228.0.0.4" port="45564" frequency="500" dropTime="3000"/>`
	}
	if c.Interceptors == nil {
		c.Interceptors = []string{"org.apache.catalina.tribes.group.interceptors.TcpFailureDetector",
			"org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"}
	}
	recv := c.Receiver
	if !strings.Contains(recv, "address=") {
		recv += ` address="auto"`
	}
	if !strings.Contains(recv, "port=") {
		recv += ` port="4000"`
	}
	if !strings.Contains(recv, "autoBind=") {
		recv += ` autoBind="100"`
	}
	var icpt strings.Builder
	for _, i := range c.Interceptors {
		fmt.Fprintf(&icpt, "            <Interceptor className=%q/>\n", i)
	}
	cluster := fmt.Sprintf(`
        <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" channelSendOptions="8"%s>
          <Manager className="org.apache.catalina.ha.session.DeltaManager"
                   expireSessionsOnShutdown="false" notifyListenersOnReplication="true"/>
          <Channel className="org.apache.catalina.tribes.group.GroupChannel">
            %s
            <Receiver className="org.apache.catalina.tribes.transport.nio.NioReceiver"
                     %s selectorTimeout="5000" maxThreads="6"/>
            <Sender className="org.apache.catalina.tribes.transport.ReplicationTransmitter">
              <Transport className="org.apache.catalina.tribes.transport.nio.PooledParallelSender"/>
            </Sender>
%s          </Channel>
          <Valve className="org.apache.catalina.ha.tcp.ReplicationValve" filter=""/>
          <Valve className="org.apache.catalina.ha.session.JvmRouteBinderValve"/>
          %s
          <ClusterListener className="org.apache.catalina.ha.session.ClusterSessionListener"/>
        </Cluster>`, c.ClusterAttrs, c.Membership, recv, icpt.String(), c.Extra)
	if c.NoCluster {
		cluster = "\n        <!-- <Cluster className=\"org.apache.catalina.ha.tcp.SimpleTcpCluster\"/> -->"
	}
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Server port="%d" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Service name="Catalina">
    <Connector port="%d" protocol="HTTP/1.1" connectionTimeout="20000"/>
    %s
    <Engine name="Catalina" defaultHost="localhost"%s>%s
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
`, c.Shutdown, c.HTTPPort, c.AJP, route, cluster)
}

// twoEngines is the server.xml with a second <Service> of its own name whose Engine has
// the same name as the first's, on HTTP port 8081 and without a cluster.
func (c tcConf) twoEngines() string {
	x := c.serverXML()
	second := x[strings.Index(x, "  <Service"):strings.Index(x, "</Server>")]
	second = strings.Replace(second, `<Service name="Catalina">`, `<Service name="Other">`, 1)
	second = strings.Replace(second, fmt.Sprintf(`port="%d"`, c.HTTPPort), `port="8081"`, 1)
	if i, j := strings.Index(second, "<Cluster"), strings.Index(second, "</Cluster>"); i >= 0 && j > i {
		second = second[:i] + second[j+len("</Cluster>"):]
	}
	return strings.Replace(x, "</Server>", second+"</Server>", 1)
}

// distributableWebXML is a web.xml with <distributable/>; plainWebXML one without.
const (
	distributableWebXML = `<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
  <distributable/>
</web-app>
`
	plainWebXML = `<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
</web-app>
`
)

// files is a CATALINA_BASE's server.xml and a distributable ROOT application.
func (c tcConf) files() map[string]string {
	return map[string]string{
		"conf/server.xml":              c.serverXML(),
		"webapps/ROOT/WEB-INF/web.xml": distributableWebXML,
		"webapps/ROOT/index.jsp":       `<%= session.getId() %>`,
	}
}

// hostsFor is a lab host's /etc/hosts with its name on its cluster address.
func hostsFor(name, addr string) string {
	return "127.0.0.1\tlocalhost\n" + addr + "\t" + name + "\n"
}

// wasView is the private view of a WAS host without a web server: the machine's own
// /etc/apache2 and /etc/nginx (CI installs both) are hidden.
func wasView(t *testing.T, h *lab.Host, name string) lab.Private {
	return lab.Private{Hosts: hostsFor(name, h.Addr.String()), Hostname: name,
		Setup: []string{"mount -t tmpfs lab-empty /etc/apache2 2>/dev/null || true", "mount -t tmpfs lab-empty /etc/nginx 2>/dev/null || true"}}
}

// jarWith builds a jar holding the given entries.
func jarWith(t testing.TB, entries map[string]string) string {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for name, content := range entries {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
