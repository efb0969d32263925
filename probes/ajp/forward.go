// Package ajp speaks AJP/1.3 to a Tomcat connector the way mod_jk and mod_proxy_ajp do:
// the CPing probe, and a forward request (a browser's request, carried as the web server
// carries it, with the worker's secret) whose answer is read back as status, headers and
// the start of the body. It lets clusterdoctor reach a Tomcat exactly on the path its
// balancer uses, without the balancer.
//
// The packet layout is the Tomcat Connectors' AJP13 reference (ajpv13a), checked against
// Tomcat's own AjpProcessor by the tests that run a real Tomcat.
package ajp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Packet types (the prefix code after the length).
const (
	typeForwardRequest = 2
	typeSendBodyChunk  = 3
	typeSendHeaders    = 4
	typeEndResponse    = 5
	typeGetBodyChunk   = 6
	typeCPong          = 9
	typeCPing          = 10
)

// Limits: a request fits Tomcat's default packetSize (8192 bytes); an answer's packet is
// at most the largest packetSize Tomcat accepts, and only the start of a body is kept.
const (
	maxRequestPacket = 8192
	maxPacket        = 65536
	// MaxBody is how much of a response body is kept; the rest is not read.
	MaxBody = 64 << 10
)

// Request attribute codes (SC_A_*) and the end of the attributes.
const (
	attrQueryString = 5
	attrSecret      = 12
	attrsDone       = 0xFF
)

// methods are the AJP method codes (SC_M_*): the index into Tomcat's methodTransArray, plus one.
var methods = map[string]byte{"OPTIONS": 1, "GET": 2, "HEAD": 3, "POST": 4, "PUT": 5, "DELETE": 6, "TRACE": 7}

// requestHeaders are the request headers AJP sends as a code (0xA0 and SC_REQ_*).
var requestHeaders = map[string]byte{
	"accept": 1, "accept-charset": 2, "accept-encoding": 3, "accept-language": 4, "authorization": 5,
	"connection": 6, "content-type": 7, "content-length": 8, "cookie": 9, "cookie2": 10, "host": 11,
	"pragma": 12, "referer": 13, "user-agent": 14,
}

// responseHeaders are the names of the response header codes 0xA001-0xA00B (SC_RESP_*).
var responseHeaders = []string{"Content-Type", "Content-Language", "Content-Length", "Date", "Last-Modified",
	"Location", "Set-Cookie", "Set-Cookie2", "Servlet-Engine", "Status", "WWW-Authenticate"}

// Request is a browser's request as the web server forwards it.
type Request struct {
	Method string // GET when empty
	URI    string // the path, without the query
	Query  string // without the '?'
	// Host is the server name and Host header; Port the server port the browser used.
	Host string
	Port int
	// Header holds the browser's headers (Cookie, User-Agent...).
	Header http.Header
	// Secret is the worker's secret (worker.NAME.secret, or the connector's secret=); it
	// is sent only when set.
	Secret string
	// RemoteAddr is the browser's address as the web server reports it; this host's
	// address on the connection when empty.
	RemoteAddr string
}

// Response is a container's answer.
type Response struct {
	Status  int
	Message string
	Header  http.Header
	// Body is the start of the body, at most MaxBody bytes; Truncated says there was more.
	Body      []byte
	Truncated bool
}

// Do sends one forward request to the connector at to and reads the answer, within
// timeout. A request body is never sent: when the container asks for one, it is told
// there is none.
// Equivalent to what mod_jk sends for: curl -H 'Cookie: ...' http://WEB/URI
func Do(ctx context.Context, to netip.AddrPort, req Request, timeout time.Duration) (*Response, error) {
	if _, err := req.packet(); err != nil {
		return nil, err // before connecting: nothing to send
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", to.String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if req.RemoteAddr == "" { // the browser is this host
		req.RemoteAddr, _, _ = net.SplitHostPort(c.LocalAddr().String())
	}
	pkt, err := req.packet()
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	c.SetDeadline(deadline)
	if _, err := c.Write(pkt); err != nil {
		return nil, fmt.Errorf("send the forward request: %w", err)
	}
	resp, err := ReadResponse(c, func() error {
		_, err := c.Write([]byte{0x12, 0x34, 0, 0}) // an empty body chunk: no body
		return err
	})
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return resp, fmt.Errorf("no complete answer from %s within %s", to, timeout)
		}
		return resp, fmt.Errorf("answer from %s: %w", to, err)
	}
	return resp, nil
}

// packet encodes the forward request (AJP13_FORWARD_REQUEST).
func (r Request) packet() ([]byte, error) {
	method := r.Method
	if method == "" {
		method = "GET"
	}
	code, ok := methods[method]
	if !ok {
		return nil, fmt.Errorf("method %q cannot be forwarded over AJP", method)
	}
	if !strings.HasPrefix(r.URI, "/") {
		return nil, fmt.Errorf("request URI %q does not start with /", r.URI)
	}
	b := []byte{0x12, 0x34, 0, 0, typeForwardRequest, code}
	b = appendString(b, "HTTP/1.1")
	b = appendString(b, r.URI)
	b = appendString(b, r.RemoteAddr)
	b = appendString(b, r.RemoteAddr)
	b = appendString(b, r.Host)
	b = binary.BigEndian.AppendUint16(b, uint16(r.Port))
	b = append(b, 0) // is_ssl
	headers := [][2]string{{"host", r.Host}}
	for name, vs := range r.Header {
		if strings.EqualFold(name, "host") {
			continue
		}
		for _, v := range vs {
			headers = append(headers, [2]string{strings.ToLower(name), v})
		}
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(headers)))
	for _, h := range headers {
		if c, ok := requestHeaders[h[0]]; ok {
			b = append(b, 0xA0, c)
		} else {
			b = appendString(b, h[0])
		}
		b = appendString(b, h[1])
	}
	if r.Query != "" {
		b = appendString(append(b, attrQueryString), r.Query)
	}
	if r.Secret != "" {
		b = appendString(append(b, attrSecret), r.Secret)
	}
	b = append(b, attrsDone)
	if len(b) > maxRequestPacket {
		return nil, fmt.Errorf("the request takes %d bytes, more than an AJP packet (%d)", len(b), maxRequestPacket)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)-4))
	return b, nil
}

// appendString is an AJP string: its length (2 bytes), the bytes, and a NUL.
func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(append(b, s...), 0)
}

// ReadResponse reads packets from the container until END_RESPONSE. noBody is called when
// the container asks for a body chunk. A response that ends early is returned as far as
// it was read, with the error.
func ReadResponse(r io.Reader, noBody func() error) (*Response, error) {
	resp := &Response{Header: http.Header{}}
	hdr := make([]byte, 4)
	buf := make([]byte, maxPacket)
	headers := false
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			if errors.Is(err, io.EOF) && !headers {
				return nil, errors.New("the connection was closed without an answer")
			}
			return resp, fmt.Errorf("the answer ends early: %w", err)
		}
		if hdr[0] != 'A' || hdr[1] != 'B' {
			return nil, fmt.Errorf("answered % x, not an AJP packet: this is not an AJP connector", hdr)
		}
		n := int(binary.BigEndian.Uint16(hdr[2:]))
		if n == 0 {
			return resp, errors.New("an empty AJP packet")
		}
		p := buf[:n]
		if _, err := io.ReadFull(r, p); err != nil {
			return resp, fmt.Errorf("an AJP packet ends early: %w", err)
		}
		switch p[0] {
		case typeSendHeaders:
			if err := resp.readHeaders(p[1:]); err != nil {
				return resp, err
			}
			headers = true
		case typeSendBodyChunk:
			d := decoder{b: p[1:]}
			size := d.int()
			if d.err != nil || size > len(d.b) {
				return resp, errors.New("a body chunk longer than its packet")
			}
			room := MaxBody - len(resp.Body)
			if size > room {
				resp.Body = append(resp.Body, d.b[:room]...)
				resp.Truncated = true
				return resp, nil
			}
			resp.Body = append(resp.Body, d.b[:size]...)
		case typeEndResponse:
			if !headers {
				return resp, errors.New("the response ended before its headers")
			}
			return resp, nil
		case typeGetBodyChunk:
			if err := noBody(); err != nil {
				return resp, fmt.Errorf("answer the request for a body: %w", err)
			}
		case typeCPong:
			return resp, errors.New("a CPong where a response was expected")
		default:
			return resp, fmt.Errorf("an AJP packet of unknown type %d", p[0])
		}
	}
}

// readHeaders decodes SEND_HEADERS: status, message, and the headers.
func (resp *Response) readHeaders(p []byte) error {
	d := decoder{b: p}
	resp.Status = d.int()
	resp.Message = d.string()
	n := d.int()
	for i := 0; i < n && d.err == nil; i++ {
		var name string
		if len(d.b) >= 2 && d.b[0] == 0xA0 {
			code := int(d.b[1])
			d.b = d.b[2:]
			if code < 1 || code > len(responseHeaders) {
				return fmt.Errorf("unknown response header code 0xA0%02X", code)
			}
			name = responseHeaders[code-1]
		} else {
			name = d.string()
		}
		resp.Header.Add(name, d.string())
	}
	if d.err != nil {
		return fmt.Errorf("the response headers: %w", d.err)
	}
	if resp.Status < 100 || resp.Status > 999 {
		return fmt.Errorf("status %d is not an HTTP status", resp.Status)
	}
	return nil
}

// decoder reads AJP integers and strings from a packet, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("a field runs past the end of its packet")

func (d *decoder) int() int {
	if d.err != nil || len(d.b) < 2 {
		d.err = errShort
		return 0
	}
	v := int(binary.BigEndian.Uint16(d.b))
	d.b = d.b[2:]
	return v
}

// string reads a length, the bytes and the NUL after them; 0xFFFF is the null string.
func (d *decoder) string() string {
	n := d.int()
	if d.err != nil || n == 0xFFFF {
		return ""
	}
	if len(d.b) < n+1 {
		d.err = errShort
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n+1:]
	return s
}
