package members

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestListenLeavesUnicastAlone: while members listens on the group's port, a wildcard
// socket bound there before it (mcast-test's responder, the agent's) still gets every
// unicast datagram to the port. A listener bound to the wildcard, as Go's ListenPacket
// makes of a group address, takes them all for as long as it listens.
func TestListenLeavesUnicastAlone(t *testing.T) {
	lab.RequireRoot(t)
	l := lab.New(t)
	h := l.AddHost("m1", 1)
	h.AddMulticastRoute()
	group, port := netip.MustParseAddr("228.0.0.4"), 45564
	var wild net.PacketConn
	err := h.Do(func() (err error) {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) })
		}}
		wild, err = lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:45564")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer wild.Close()
	listening := make(chan error, 1)
	go func() {
		listening <- h.Do(func() error {
			_, err := Listen(context.Background(), Config{Group: group, Port: port, Iface: "cl0", Duration: 1500 * time.Millisecond})
			return err
		})
	}()
	time.Sleep(300 * time.Millisecond) // members has bound its sockets
	const sent = 20
	if err := h.Do(func() error {
		c, err := net.Dial("udp4", netip.AddrPortFrom(h.Addr, uint16(port)).String())
		if err != nil {
			return err
		}
		defer c.Close()
		for range sent {
			c.Write([]byte("unicast"))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := 0
	buf := make([]byte, 64)
	wild.SetReadDeadline(time.Now().Add(time.Second))
	for {
		if _, _, err := wild.ReadFrom(buf); err != nil {
			break
		}
		got++
	}
	if err := <-listening; err != nil {
		t.Fatal(err)
	}
	if got != sent {
		t.Errorf("the wildcard socket got %d of %d unicast datagrams while members listened", got, sent)
	}
}
