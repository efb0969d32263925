package ntp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
)

// ntpdState is the system variables ntpd reports over mode 6 (ntpq -c rv).
type ntpdState struct {
	Leap    int     // 3 means not synchronised
	Stratum int     // 16 means not synchronised
	Offset  float64 // seconds (ntpd reports milliseconds)
	RefID   string
}

// Mode 6 control header: li_vn_mode, r/e/m bits + opcode, sequence, status, association
// id, offset, count, then data padded to 4 bytes (RFC 1305 appendix B).
const (
	ctlHeaderLen = 12
	ctlReadVar   = 2
	ctlResponse  = 0x80
	ctlError     = 0x40
	ctlMore      = 0x20
)

// ntpdReadVars asks ntpd (or ntpsec) on addr for its system variables, the request
// `ntpq -c rv` sends.
func ntpdReadVars(ctx context.Context, addr string) (*ntpdState, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	seq := uint16(rand.Uint32())
	req := make([]byte, ctlHeaderLen)
	req[0] = 2<<3 | 6 // version 2, mode 6: what ntpq sends, accepted by every ntpd
	req[1] = ctlReadVar
	binary.BigEndian.PutUint16(req[2:], seq)
	if _, err := conn.Write(req); err != nil {
		return nil, err
	}
	data, err := readFragments(conn, seq)
	if err != nil {
		return nil, err
	}
	return parseSysVars(data)
}

// readFragments collects a response that may span several datagrams (the More bit),
// placed by their offset field.
func readFragments(conn net.Conn, seq uint16) ([]byte, error) {
	var buf [1024]byte
	got := map[int][]byte{}
	total := -1
	for total < 0 || len(joined(got)) < total {
		n, err := conn.Read(buf[:])
		if err != nil {
			return nil, err
		}
		frag, off, more, err := decodeFragment(buf[:n], seq)
		if err != nil {
			continue // not ours (stale sequence) or garbage: keep waiting until the deadline
		}
		got[off] = append([]byte(nil), frag...) // buf is reused by the next read
		if !more {
			total = off + len(frag)
		}
		if len(got) > 64 {
			return nil, errors.New("mode 6 reply in too many fragments")
		}
	}
	return joined(got), nil
}

func decodeFragment(p []byte, seq uint16) (data []byte, off int, more bool, err error) {
	if len(p) < ctlHeaderLen {
		return nil, 0, false, errors.New("short mode 6 packet")
	}
	if p[0]&7 != 6 || p[1]&ctlResponse == 0 || p[1]&0x1f != ctlReadVar || binary.BigEndian.Uint16(p[2:]) != seq {
		return nil, 0, false, errors.New("not a reply to our request")
	}
	if p[1]&ctlError != 0 {
		return nil, 0, false, fmt.Errorf("ntpd refused the request (error %d)", binary.BigEndian.Uint16(p[4:])>>8)
	}
	off = int(binary.BigEndian.Uint16(p[8:]))
	count := int(binary.BigEndian.Uint16(p[10:]))
	if ctlHeaderLen+count > len(p) {
		return nil, 0, false, errors.New("mode 6 count beyond packet")
	}
	return p[ctlHeaderLen : ctlHeaderLen+count], off, p[1]&ctlMore != 0, nil
}

// joined concatenates fragments in offset order if they are contiguous.
func joined(got map[int][]byte) []byte {
	var out []byte
	for {
		f, ok := got[len(out)]
		if !ok || len(f) == 0 {
			return out
		}
		out = append(out, f...)
	}
}

// parseSysVars reads "name=value, name=value" with quoted strings, as ntpd writes them.
func parseSysVars(data []byte) (*ntpdState, error) {
	vars := map[string]string{}
	for _, kv := range splitVars(string(data)) {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		vars[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	leap, ok := vars["leap"]
	if !ok {
		return nil, errors.New("ntpd reply has no leap variable")
	}
	st := &ntpdState{RefID: vars["refid"]}
	l, err := strconv.ParseInt(leap, 2, 8) // ntpd writes leap=00 (binary); ntpsec writes 0
	if err != nil {
		if l, err = strconv.ParseInt(leap, 10, 8); err != nil {
			return nil, fmt.Errorf("bad leap %q", leap)
		}
	}
	st.Leap = int(l)
	st.Stratum, _ = strconv.Atoi(vars["stratum"])
	if ms, err := strconv.ParseFloat(vars["offset"], 64); err == nil {
		st.Offset = ms / 1000
	}
	return st, nil
}

// splitVars splits on commas outside double quotes.
func splitVars(s string) []string {
	var out []string
	quoted, start := false, 0
	for i, c := range s {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
