package mcast

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	p := Packet{Kind: KindReply, Flags: FlagMulticast, TTL: 1, Sender: 0xdeadbeefcafe, Seq: 7, Cookie: 99, Sent: 1234567890123,
		EchoSent: -5, Received: 77, EchoSeq: 6, Code: FlagExplicit, Body: []byte("stats")}
	for _, key := range [][]byte{nil, []byte("s3cret")} {
		b := Encode(nil, &p, key)
		got, err := Decode(b, key)
		if err != nil {
			t.Fatalf("key %q: Decode: %v", key, err)
		}
		want := p
		if key != nil {
			want.Flags |= FlagAuth
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("key %q: round trip %+v; want %+v", key, got, want)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good := Encode(nil, &Packet{Kind: KindEcho, Seq: 1}, nil)
	keyed := Encode(nil, &Packet{Kind: KindEcho, Seq: 1}, []byte("k"))
	tampered := bytes.Clone(keyed)
	tampered[17] ^= 1
	badVersion := bytes.Clone(good)
	badVersion[4] = 9
	badKind := bytes.Clone(good)
	badKind[5] = 0
	tests := []struct {
		name string
		in   []byte
		key  []byte
		want error
	}{
		{"empty", nil, nil, ErrForeign},
		{"junk", []byte("hello world, this is not a clusterdoctor packet at all"), nil, ErrForeign},
		{"short", good[:20], nil, ErrForeign},
		{"version", badVersion, nil, ErrVersion},
		{"kind", badKind, nil, ErrForeign},
		{"truncated body", append(bytes.Clone(good[:58]), 0, 5), nil, ErrLength},
		{"reserved byte", func() []byte { b := bytes.Clone(good); b[57] = 1; return b }(), nil, ErrForeign},
		{"trailing bytes", append(bytes.Clone(good), 0), nil, ErrLength},
		{"unauthenticated with a key", good, []byte("k"), ErrAuth},
		{"wrong key", keyed, []byte("other"), ErrAuth},
		{"tampered", tampered, []byte("k"), ErrAuth},
		{"keyed without a key", keyed, nil, ErrAuth},
	}
	for _, tt := range tests {
		if _, err := Decode(tt.in, tt.key); !errors.Is(err, tt.want) {
			t.Errorf("%s: Decode = %v; want %v", tt.name, err, tt.want)
		}
	}
}

// TestTomcatHeartbeatsAreForeign feeds real Tribes heartbeats captured from Tomcat 10.1
// (shared testdata): they share the port and must be counted and ignored.
func TestTomcatHeartbeatsAreForeign(t *testing.T) {
	for _, p := range tribesPackets(t) {
		if _, err := Decode(p, nil); !errors.Is(err, ErrForeign) {
			t.Fatalf("Decode(tribes heartbeat) = %v; want ErrForeign", err)
		}
	}
}

// tribesPackets reads testdata/tribes-heartbeats.hex: one packet per line, hex.
func tribesPackets(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tribes-heartbeats.hex"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p, err := hex.DecodeString(line)
		if err != nil {
			t.Fatalf("testdata: %v", err)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		t.Fatal("testdata: no packets")
	}
	return out
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(nil, &Packet{Kind: KindEcho, Seq: 1, Body: []byte("pad")}, nil), false)
	f.Add(Encode(nil, &Packet{Kind: KindStats, Body: []byte{0, 1, 2}}, []byte("k")), true)
	f.Add([]byte("TRIBES-B\x01\x00"), false)
	f.Fuzz(func(t *testing.T, b []byte, keyed bool) {
		var key []byte
		if keyed {
			key = []byte("k")
		}
		p, err := Decode(b, key)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		if again := Encode(nil, &p, key); !bytes.Equal(again, b) {
			t.Fatalf("re-encode differs:\n%x\n%x", b, again)
		}
		decodeStats(p.Body)
		decodeInfo(p.Body)
		parseAck(p.Body)
	})
}

func FuzzDecodeInfo(f *testing.F) {
	f.Add(encodeInfo(Info{Host: "was1", Tomcat: "10.1.34", Interceptors: []string{"TcpFailureDetector"}, JvmRoute: "was1"}))
	f.Add([]byte(`{"interceptors":["a","b"],"port":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := decodeInfo(b)
		if err != nil {
			return
		}
		if len(in.Interceptors) > maxInterceptors || len(in.Host) > maxField {
			t.Fatalf("unbounded: %+v", in)
		}
		if out := encodeInfo(in); len(out) > infoMax {
			t.Fatalf("re-encoded %d bytes", len(out))
		}
	})
}

func TestInfoBounded(t *testing.T) {
	big := Info{Host: strings.Repeat("h", 5000)}
	for i := range 100 {
		big.Interceptors = append(big.Interceptors, strings.Repeat("x", 100)+string(rune('a'+i%26)))
	}
	b := encodeInfo(big)
	if len(b) > infoMax {
		t.Fatalf("encoded %d bytes, limit %d", len(b), infoMax)
	}
	got, err := decodeInfo(b)
	if err != nil || len(got.Host) != maxField || len(got.Interceptors) == 0 {
		t.Fatalf("decode: %v %d %d", err, len(got.Host), len(got.Interceptors))
	}
	// AJP connectors past what fits go after the interceptors, never the whole summary.
	big = Info{JvmRoute: "tomcat1", Interceptors: []string{"TcpFailureDetector"}}
	for range 20 {
		big.AJP = append(big.AJP, strings.Repeat("a", 300)+":8009")
	}
	got, err = decodeInfo(encodeInfo(big))
	if err != nil || got.JvmRoute != "tomcat1" || len(got.AJP) == 0 || len(got.AJP) > maxAJP || len(got.Interceptors) != 0 {
		t.Fatalf("decode of an oversized AJP list: %v, route %q, %d AJP, %d interceptors", err, got.JvmRoute, len(got.AJP), len(got.Interceptors))
	}
}

func FuzzDecodeStats(f *testing.F) {
	f.Add(appendStats(nil, &Stats{Sent: [numPaths]uint32{30, 30}, Done: true, Route: RouteState{Code: RouteWrong, Egress: "pub0"}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeStats(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes: nothing is read that is not there.
		if again := appendStats(nil, &s); !bytes.Equal(again, b) {
			t.Fatalf("re-encode differs:\n%x\n%x", b, again)
		}
	})
}
