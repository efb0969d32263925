package mcast

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// ErrNoAnswer: nothing answered the handshake (no clusterdoctor there, or its port is
// closed to us).
var ErrNoAnswer = errors.New("no clusterdoctor answered")

// AskSettings asks the clusterdoctor (agent or a running mcast-test) at to for its
// settings summary, as a peer does in the handshake: Hello, the HelloVerify's cookie, the
// Hello with it, then an InfoReq padded to the answer's size. The web tier uses it to learn
// each Tomcat's jvmRoute.
func AskSettings(ctx context.Context, to netip.AddrPort, key []byte, wait time.Duration) (Info, error) {
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		return Info{}, err
	}
	defer c.Close()
	var idb [8]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint64(idb[:]) | 1
	deadline := time.Now().Add(wait)
	buf := make([]byte, MaxPacket)
	var cookie, peer uint64
	ask := func(kind Kind, seq uint32, pad int) {
		c.Write(Encode(nil, &Packet{Kind: kind, Sender: id, Seq: seq, Cookie: cookie, Sent: time.Now().UnixNano(), Body: make([]byte, pad)}, key))
		next := time.Now().Add(handshakeEvery)
		if next.After(deadline) {
			next = deadline
		}
		c.SetReadDeadline(next)
	}
	for seq := uint32(1); time.Now().Before(deadline) && ctx.Err() == nil; seq++ {
		if peer == 0 {
			ask(KindHello, seq, helloPad)
		} else {
			ask(KindInfoReq, seq, infoMax)
		}
		for {
			n, err := c.Read(buf)
			if err != nil {
				if !isTimeout(err) {
					time.Sleep(handshakeEvery) // refused comes back at once: do not spin
				}
				break
			}
			ans, err := Decode(buf[:n], key)
			switch {
			case ans.Kind == KindAuthRequired && (err == nil || errors.Is(err, ErrAuth)):
				if ans.Code == authUnkeyed {
					return Info{}, fmt.Errorf("%s runs without a key and this one has one: %w", to, ErrAuth)
				}
				return Info{}, fmt.Errorf("%s requires another key: %w", to, ErrAuth)
			case err != nil || ans.EchoSeq != seq:
			case ans.Kind == KindHelloVerify:
				cookie = ans.Cookie
			case ans.Kind == KindHelloAck:
				peer, cookie = ans.Sender, ans.Cookie
			case ans.Kind == KindInfo && ans.Sender == peer:
				return decodeInfo(ans.Body)
			default:
				continue
			}
			break // ask again at once with what was learnt
		}
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	return Info{}, fmt.Errorf("%s: %w within %s", to, ErrNoAnswer, wait)
}
