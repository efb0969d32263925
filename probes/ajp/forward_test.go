package ajp

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
)

// TestRequestPacket: a forward request laid out field by field as the AJP13 reference
// gives it (the real Tomcat answering such requests is tested in cmd/clusterdoctor).
func TestRequestPacket(t *testing.T) {
	got, err := Request{URI: "/app/", Query: "a=1", Host: "web", Port: 80, RemoteAddr: "10.0.0.9",
		Header: http.Header{"Cookie": {"JSESSIONID=ABC.t1"}, "X-Test": {"v"}}, Secret: "s3"}.packet()
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) []byte { return append(append([]byte{byte(len(s) >> 8), byte(len(s))}, s...), 0) }
	var want []byte
	want = append(want, 0x12, 0x34, 0, 0, 2, 2) // forward request, GET
	for _, s := range []string{"HTTP/1.1", "/app/", "10.0.0.9", "10.0.0.9", "web"} {
		want = append(want, str(s)...)
	}
	want = append(want, 0, 80, 0, 0, 3) // port 80, not ssl, 3 headers
	want = append(append(want, 0xA0, 0x0B), str("web")...)
	// map order: the two other headers in either order
	cookie := append([]byte{0xA0, 0x09}, str("JSESSIONID=ABC.t1")...)
	other := append(str("x-test"), str("v")...)
	tail := append(append([]byte{5}, str("a=1")...), append([]byte{12}, str("s3")...)...)
	tail = append(tail, 0xFF)
	a := append(append(append([]byte(nil), want...), cookie...), other...)
	b := append(append(append([]byte(nil), want...), other...), cookie...)
	a, b = append(a, tail...), append(b, tail...)
	binary.BigEndian.PutUint16(a[2:], uint16(len(a)-4))
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)-4))
	if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
		t.Errorf("packet =\n% x\nwant\n% x", got, a)
	}

	for _, bad := range []Request{{Method: "BREW", URI: "/"}, {URI: "app"}, {URI: "/" + strings.Repeat("a", 9000)}} {
		if _, err := bad.packet(); err == nil {
			t.Errorf("packet(%+v) = nil error; want one", bad.Method+" "+bad.URI[:min(len(bad.URI), 10)])
		}
	}
}

// container builds a container's answer packet by packet.
type container struct{ b []byte }

func (c *container) packet(p ...[]byte) *container {
	var body []byte
	for _, x := range p {
		body = append(body, x...)
	}
	c.b = append(c.b, 'A', 'B', byte(len(body)>>8), byte(len(body)))
	c.b = append(c.b, body...)
	return c
}

func u16(n int) []byte  { return []byte{byte(n >> 8), byte(n)} }
func s(v string) []byte { return append(append(u16(len(v)), v...), 0) }

func headers(status int, msg string, kv ...[]byte) []byte {
	out := append(append([]byte{typeSendHeaders}, u16(status)...), s(msg)...)
	out = append(out, u16(len(kv)/2)...)
	for _, x := range kv {
		out = append(out, x...)
	}
	return out
}

func TestReadResponse(t *testing.T) {
	setCookie := []byte{0xA0, 0x07}
	ok := new(container).
		packet([]byte{typeGetBodyChunk}, u16(8186)).
		packet(headers(200, "OK", setCookie, s("JSESSIONID=ABC.tomcat1; Path=/; HttpOnly"), s("X-Node"), s("tomcat1"))).
		packet([]byte{typeSendBodyChunk}, u16(5), []byte("hello"), []byte{0}).
		packet([]byte{typeSendBodyChunk}, u16(6), []byte(" world"), []byte{0}).
		packet([]byte{typeEndResponse, 1}).b
	asked := 0
	resp, err := ReadResponse(bytes.NewReader(ok), func() error { asked++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.Message != "OK" || string(resp.Body) != "hello world" || asked != 1 ||
		resp.Header.Get("Set-Cookie") != "JSESSIONID=ABC.tomcat1; Path=/; HttpOnly" || resp.Header.Get("X-Node") != "tomcat1" {
		t.Errorf("ReadResponse = %d %q %q %v (asked for a body %d times)", resp.Status, resp.Message, resp.Body, resp.Header, asked)
	}

	big := new(container).packet(headers(200, "OK"))
	chunk := bytes.Repeat([]byte("x"), 8000)
	for range 10 {
		big.packet([]byte{typeSendBodyChunk}, u16(len(chunk)), chunk, []byte{0})
	}
	resp, err = ReadResponse(bytes.NewReader(big.b), func() error { return nil })
	if err != nil || !resp.Truncated || len(resp.Body) != MaxBody {
		t.Errorf("a body over MaxBody: %d bytes, truncated %v, %v; want %d, true", len(resp.Body), resp.Truncated, err, MaxBody)
	}

	for _, tc := range []struct {
		name string
		in   []byte
		says string
	}{
		{"an HTTP port", []byte("HTTP/1.1 400 \r\n"), "not an AJP packet"},
		{"closed at once", nil, "closed without an answer"},
		{"cut in a packet", new(container).packet(headers(200, "OK")).b[:7], "ends early"},
		{"no end", new(container).packet(headers(200, "OK")).b, "ends early"},
		{"end before headers", new(container).packet([]byte{typeEndResponse, 1}).b, "before its headers"},
		{"a header past the packet", new(container).packet([]byte{typeSendHeaders}, u16(200), s("OK"), u16(3), s("X")).b, "past the end"},
		{"an unknown header code", new(container).packet(headers(200, "OK", []byte{0xA0, 0x0C}, s("x"))).b, "0xA00C"},
		{"a chunk longer than its packet", new(container).packet(headers(200, "OK")).packet([]byte{typeSendBodyChunk}, u16(100), []byte("abc")).b, "longer than its packet"},
		{"a status that is not one", new(container).packet(headers(7, "OK")).b, "not an HTTP status"},
		{"an unknown type", new(container).packet([]byte{42}).b, "unknown type 42"},
	} {
		if _, err := ReadResponse(bytes.NewReader(tc.in), func() error { return nil }); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: ReadResponse error = %v; want one saying %q", tc.name, err, tc.says)
		}
	}
}

// FuzzReadResponse: whatever a port answers, reading it returns (never panics), and a
// body never grows past MaxBody.
func FuzzReadResponse(f *testing.F) {
	f.Add(new(container).packet(headers(200, "OK", []byte{0xA0, 0x07}, s("JSESSIONID=A.b"))).packet([]byte{typeEndResponse, 1}).b)
	f.Add(new(container).packet(headers(403, "Forbidden")).packet([]byte{typeSendBodyChunk}, u16(2), []byte("no"), []byte{0}).packet([]byte{typeEndResponse, 0}).b)
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\n"))
	f.Add([]byte{'A', 'B', 0xff, 0xff, 4})
	f.Fuzz(func(t *testing.T, in []byte) {
		resp, _ := ReadResponse(bytes.NewReader(in), func() error { return nil })
		if resp != nil && len(resp.Body) > MaxBody {
			t.Fatalf("body of %d bytes", len(resp.Body))
		}
	})
}
