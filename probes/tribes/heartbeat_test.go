package tribes

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// pcapPayloads reads the UDP payloads of an Ethernet pcap (little-endian, microseconds,
// as tcpdump writes it), with each packet's IPv4 source.
func pcapPayloads(t *testing.T, name string) (payloads [][]byte, sources []netip.Addr) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 1 {
		t.Fatalf("%s: not a little-endian Ethernet pcap", name)
	}
	for b = b[24:]; len(b) >= 16; {
		n := int(binary.LittleEndian.Uint32(b[8:]))
		frame := b[16 : 16+n]
		b = b[16+n:]
		ip := frame[14:]
		ihl := int(ip[0]&0x0f) * 4
		udp := ip[ihl:]
		ulen := int(binary.BigEndian.Uint16(udp[4:]))
		payloads = append(payloads, udp[8:ulen])
		sources = append(sources, netip.AddrFrom4([4]byte(ip[12:16])))
	}
	return payloads, sources
}

// expected is what the shared decode files say of one packet.
type expected struct {
	source, host netip.Addr
	port         int
	alive        int64
	id, command  string
}

var (
	packetLine = regexp.MustCompile(`^# packet \d+: \S+\s+(\S+):\d+ -> .* advertises tcp://(\S+):(\d+) alive=(\d+) ms`)
	idLine     = regexp.MustCompile(`^\s+\d+\s+16\s+uniqueId\s+.*\s([0-9a-f]{32})$`)
	cmdLine    = regexp.MustCompile(`^\s+\d+\s+\d+\s+command\s+.*b'([^']*)'$`)
)

func readDecode(t *testing.T, name string) []expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []expected
	for _, line := range strings.Split(string(b), "\n") {
		if m := packetLine.FindStringSubmatch(line); m != nil {
			port, _ := strconv.Atoi(m[3])
			alive, _ := strconv.ParseInt(m[4], 10, 64)
			out = append(out, expected{source: netip.MustParseAddr(m[1]), host: netip.MustParseAddr(m[2]), port: port, alive: alive})
		} else if m := idLine.FindStringSubmatch(line); m != nil && len(out) > 0 {
			out[len(out)-1].id = m[1]
		} else if m := cmdLine.FindStringSubmatch(line); m != nil && len(out) > 0 {
			out[len(out)-1].command = m[1]
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no packets described", name)
	}
	return out
}

// TestRealHeartbeats: the captures of two real Tomcat 10.1.60 decode to the values the
// shared field-by-field decodes give (checked there against Tomcat's MemberImpl): every
// packet they describe is found among the decoded ones, and only the stopping member's
// packet carries the shutdown command.
func TestRealHeartbeats(t *testing.T) {
	for _, c := range []struct {
		pcap, decode string
		members      int
	}{
		{"heartbeats.pcap", "heartbeats-decode.txt", 2},
		{"shutdown.pcap", "shutdown-decode.txt", 3}, // was2 restarted there: a new uniqueId
	} {
		payloads, sources := pcapPayloads(t, c.pcap)
		decoded := map[expected]bool{}
		ids := map[string]bool{}
		shutdowns := 0
		for i, p := range payloads {
			h, err := Decode(p)
			if err != nil {
				t.Fatalf("%s packet %d: %v", c.pcap, i+1, err)
			}
			if h.SecurePort != -1 || h.UDPPort != -1 || len(h.Domain) != 0 || len(h.Payload) != 0 {
				t.Errorf("%s packet %d: %+v; want no secure or udp port, domain or payload", c.pcap, i+1, h)
			}
			if h.Shutdown() {
				shutdowns++
			}
			decoded[expected{source: sources[i], host: h.Addr(), port: int(h.Port), alive: h.AliveMs, id: h.ID(), command: string(h.Command)}] = true
			ids[h.ID()] = true
		}
		wantShutdowns := 0
		for _, w := range readDecode(t, c.decode) {
			if !decoded[w] {
				t.Errorf("%s: the shared decode describes %+v; no packet decoded to it", c.pcap, w)
			}
			if w.command == ShutdownCommand {
				wantShutdowns++
			}
		}
		if shutdowns != wantShutdowns || len(ids) != c.members {
			t.Errorf("%s: %d shutdown packets, %d members; want %d and %d", c.pcap, shutdowns, len(ids), wantShutdowns, c.members)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	payloads, _ := pcapPayloads(t, "heartbeats.pcap")
	good := payloads[0]
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, good...)) }
	for _, c := range []struct {
		name string
		b    []byte
		err  error
	}{
		{"clusterdoctor's own", []byte("CDMT\x02\x03"), ErrNotHeartbeat},
		{"truncated", good[:30], ErrMalformed},
		{"no end marker", mod(func(b []byte) []byte { b[len(b)-1] = 'x'; return b }), ErrMalformed},
		{"negative body length", mod(func(b []byte) []byte { b[10] = 0xff; return b }), ErrMalformed},
		{"negative host length", mod(func(b []byte) []byte { b[34] = 0x80; return b }), ErrMalformed},
		{"command longer than the body", mod(func(b []byte) []byte { b[42] = 0x7f; return b }), ErrMalformed},
	} {
		if _, err := Decode(c.b); !errors.Is(err, c.err) {
			t.Errorf("%s: %v; want %v", c.name, err, c.err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"heartbeats.pcap", "shutdown.pcap"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		if i := bytes.Index(b, begin); i >= 0 {
			f.Add(b[i:])
		}
	}
	seed, _ := hex.DecodeString("54524942455332d4201000000350000000000293b00000fa0ffffffffffffffff040a4d000c")
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Decode(b)
		if err != nil {
			return
		}
		if len(h.Host) > 127 || len(h.Command) > MaxField || len(h.Domain) > MaxField || len(h.Payload) > MaxField {
			t.Fatalf("unbounded field: %+v", h)
		}
		h.Addr()
		h.Shutdown()
	})
}

// TestRejectsWithoutAllocating: junk, including junk behind a beginning marker, costs
// the listener no allocation (it arrives at any rate).
func TestRejectsWithoutAllocating(t *testing.T) {
	junk := append([]byte("TRIBES-B\x01\x00\x00\x00\x00\x35"), make([]byte, 40)...)
	for _, b := range [][]byte{[]byte("random bytes"), junk} {
		if n := testing.AllocsPerRun(1000, func() { Decode(b) }); n != 0 {
			t.Errorf("rejecting %q allocates %.0f times", b[:8], n)
		}
	}
}
