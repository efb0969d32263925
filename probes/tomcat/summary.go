package tomcat

import (
	"fmt"
	"net"
	"strconv"
	"time"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
)

// Summary is what an instance's cluster is, in the terms hosts compare with each other
// (mcast.Info carries it between clusterdoctors): a difference between two hosts in any
// of these breaks or weakens clustering, and no host can see it alone.
type Summary struct {
	Tomcat             string
	Cluster, Manager   string // class names without their package
	Interceptors       []string
	ChannelSendOptions string
	JvmRoute           string
	ReceiverAddress    string
	ReceiverPort       int
	Domain             string
	// Encrypt is EncryptInterceptor's wire: its format (2 with replay protection) and
	// algorithm; empty without the interceptor.
	Encrypt string
	// AJP is every AJP connector as ADDRESS:PORT, the address as Tomcat binds it:
	// "localhost" where it says none and the release binds loopback by default, "0.0.0.0"
	// for every address. A web host's ajp.workers names it when a worker is refused.
	AJP     []string
	Running bool
}

// Summary of the instance's cluster, with Tomcat's defaults where server.xml says nothing.
func (in *Instance) Summary() Summary {
	s := Summary{Running: in.PID > 0}
	if !in.Version.IsZero() {
		s.Tomcat = in.Version.String()
	}
	for _, con := range in.Connectors() {
		if !con.AJP {
			continue
		}
		addr := con.Address
		switch {
		case addr == "" && (in.Version.IsZero() || ajpLoopback.In(in.Version)):
			addr = "localhost"
		case addr == "":
			addr = "0.0.0.0"
		}
		s.AJP = append(s.AJP, net.JoinHostPort(addr, strconv.Itoa(con.Port)))
	}
	c, eng := in.Cluster()
	if eng != nil {
		s.JvmRoute = eng.JvmRoute
		if s.JvmRoute == "" && in.Props != nil && jvmRoutePropertyRead(in.Version) {
			s.JvmRoute, _ = in.Props.Lookup("jvmRoute") // StandardEngine's fallback before 10.1
		}
	}
	if c == nil {
		return s
	}
	s.Cluster = conf.SimpleName(conf.ClassName(c.El))
	s.Manager = "DeltaManager"
	if c.Manager != nil {
		s.Manager = conf.SimpleName(conf.ClassName(c.Manager))
	}
	s.ChannelSendOptions = "8" // SimpleTcpCluster's default: asynchronous
	if v, ok := c.El.Get("channelSendOptions"); ok {
		s.ChannelSendOptions = v
	}
	for _, class := range c.InterceptorClasses() {
		s.Interceptors = append(s.Interceptors, conf.SimpleName(class))
	}
	s.ReceiverAddress, s.ReceiverPort = "auto", 4000
	if c.Receiver != nil {
		if v, ok := c.Receiver.Get("address"); ok {
			s.ReceiverAddress = v
		}
		fmt.Sscan(c.Receiver.Value("port"), &s.ReceiverPort)
	}
	if c.Membership != nil {
		s.Domain = c.Membership.Value("domain")
	}
	if e := c.Interceptor("EncryptInterceptor"); e != nil {
		s.Encrypt = encryptWire(in.Version, e)
	}
	return s
}

// encryptWire names what EncryptInterceptor puts on the wire in this release: replay
// protection changed its format, and the default algorithm changed later.
func encryptWire(v Version, e *conf.Element) string {
	if v.IsZero() {
		if alg, ok := e.Get("encryptionAlgorithm"); ok {
			return "format unknown, " + alg
		}
		return "format unknown"
	}
	format := 1
	if encryptReplay.In(v) {
		format = 2
	}
	alg := "AES/CBC/PKCS5Padding"
	if encryptGCM.In(v) {
		alg = "AES/GCM/NoPadding"
	}
	if a, ok := e.Get("encryptionAlgorithm"); ok {
		alg = a
	}
	return fmt.Sprintf("format %d, %s", format, alg)
}

// Heartbeats is how the instance's McastService sends heartbeats: every frequency, a
// member silent for dropTime dropped. ok is false when it runs no multicast membership.
func (in *Instance) Heartbeats() (frequency, dropTime time.Duration, ok bool) {
	c, _ := in.Cluster()
	if c == nil {
		return 0, 0, false
	}
	m := membershipOf(in, c)
	if !m.Multicast {
		return 0, 0, false
	}
	return time.Duration(m.Frequency) * time.Millisecond, time.Duration(m.DropTime) * time.Millisecond, true
}
