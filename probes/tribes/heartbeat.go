// Package tribes decodes the membership heartbeats of Tomcat's Tribes (McastService):
// what each member advertises about itself, as Tomcat's own MemberImpl reads it. It only
// reads; clusterdoctor never sends to the group.
package tribes

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
)

// The markers around every member record (MemberImpl.TRIBES_MBR_BEGIN and _END).
var (
	begin = []byte("TRIBES-B\x01\x00")
	end   = []byte("TRIBES-E\x01\x00")
)

// ShutdownCommand is the command a stopping member sends (Member.SHUTDOWN_PAYLOAD).
const ShutdownCommand = "BABY-ALEX"

// MaxField bounds the variable fields kept of a heartbeat: real ones are a few bytes
// (an address, an empty command and domain); anything longer is not a heartbeat to trust.
const MaxField = 1024

// Heartbeat is one member record, field by field.
//
//	TRIBES-B\x01\x00, body length (4), alive ms (8), port (4), secure port (4),
//	udp port (4), host length (1) + host, command length (4) + command,
//	domain length (4) + domain, uniqueId (16), payload length (4) + payload, TRIBES-E\x01\x00
//
// All big-endian. The body length counts from the alive time to the end marker.
type Heartbeat struct {
	// AliveMs is how long the member has been running, in milliseconds.
	AliveMs int64
	// Port is the receiver's TCP port; SecurePort and UDPPort are -1 when unused.
	Port, SecurePort, UDPPort int32
	// Host is the address the member advertises, as Tomcat sends it (4 or 16 bytes).
	Host []byte
	// Command is empty in heartbeats; ShutdownCommand when the member stops.
	Command []byte
	Domain  []byte
	// UniqueID tells a member's runs apart (a restart gets a new one).
	UniqueID [16]byte
	Payload  []byte
}

// Decode errors.
var (
	ErrNotHeartbeat = errors.New("not a Tribes member record")
	ErrMalformed    = errors.New("malformed Tribes member record")
)

// Decode reads one member record from a datagram, with MemberImpl.getMember's checks
// (begin marker, body length, end marker where the body length says) and, beyond them,
// every field within the body and no field longer than MaxField.
func Decode(b []byte) (Heartbeat, error) {
	var h Heartbeat
	if !bytes.HasPrefix(b, begin) {
		return h, ErrNotHeartbeat
	}
	if len(b) < len(begin)+4 {
		return h, ErrMalformed
	}
	body := int64(int32(binary.BigEndian.Uint32(b[len(begin):])))
	start := int64(len(begin) + 4)
	// Rejections return the bare sentinel: junk arrives at any rate, and a responder
	// that formats a message for each would allocate for it.
	if body < 0 || start+body+int64(len(end)) > int64(len(b)) {
		return h, ErrMalformed
	}
	stop := start + body
	if !bytes.Equal(b[stop:stop+int64(len(end))], end) {
		return h, ErrMalformed
	}
	r := reader{b: b[start:stop]}
	h.AliveMs = int64(r.u64())
	h.Port, h.SecurePort, h.UDPPort = int32(r.u32()), int32(r.u32()), int32(r.u32())
	hl := r.u8()
	if hl > 127 { // a negative Java byte: MemberImpl throws "invalid host length"
		return Heartbeat{}, fmt.Errorf("%w: host length %d", ErrMalformed, int8(hl))
	}
	h.Host = r.bytes(int(hl))
	h.Command = r.bytes(int(int32(r.u32())))
	h.Domain = r.bytes(int(int32(r.u32())))
	copy(h.UniqueID[:], r.bytes(16))
	h.Payload = r.bytes(int(int32(r.u32())))
	if r.err != nil {
		return Heartbeat{}, fmt.Errorf("%w: %v", ErrMalformed, r.err)
	}
	return h, nil
}

// Addr is the advertised host as an address; invalid when it is not 4 or 16 bytes.
func (h Heartbeat) Addr() netip.Addr {
	a, ok := netip.AddrFromSlice(h.Host)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}

// Shutdown reports whether this is the packet of a member that stops.
func (h Heartbeat) Shutdown() bool { return string(h.Command) == ShutdownCommand }

// ID is the uniqueId in hex, as a key.
func (h Heartbeat) ID() string { return hex.EncodeToString(h.UniqueID[:]) }

// reader takes fields off a body, remembering the first overrun.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) || n > MaxField {
		r.err = fmt.Errorf("a field of %d bytes with %d left", n, len(r.b))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// bytes returns a copy, so a Heartbeat never holds the caller's buffer.
func (r *reader) bytes(n int) []byte {
	v := r.take(n)
	if v == nil {
		return nil
	}
	return append([]byte{}, v...)
}
