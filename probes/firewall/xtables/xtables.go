// Package xtables reads the legacy iptables filter table (x_tables, what iptables-legacy
// and CentOS 7's iptables write) from the kernel and decides whether its INPUT chain
// accepts a packet, for hosts whose rules are not in nftables. The table is read the way
// iptables-legacy -S reads it: getsockopt IPT_SO_GET_INFO, then IPT_SO_GET_ENTRIES.
package xtables

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	soGetInfo    = 64 // IPT_SO_GET_INFO
	soGetEntries = 65 // IPT_SO_GET_ENTRIES
	hookLocalIn  = 1  // NF_INET_LOCAL_IN
	hookForward  = 2  // NF_INET_FORWARD
	infoSize     = 32 + 4 + 5*4 + 5*4 + 4 + 4
	entriesHead  = 40 // struct ipt_get_entries: name[32], size, then 8-aligned entries
)

// Table is the filter table's entries and where INPUT and FORWARD start.
type Table struct {
	blob          []byte // the entries, as the kernel lays them out
	input         uint32 // offset of INPUT's first rule
	policy        uint32 // offset of INPUT's policy (its underflow entry)
	forward, fpol uint32 // FORWARD's first rule and its policy
}

// ErrNoTable: the legacy filter table is not loaded in this namespace.
var ErrNoTable = errors.New("no legacy iptables filter table")

// Load reads the filter table of the current network namespace.
func Load() (*Table, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		return nil, fmt.Errorf("iptables: raw socket: %w", err)
	}
	defer unix.Close(fd)
	info := make([]byte, infoSize)
	copy(info, "filter")
	if err := getsockopt(fd, soGetInfo, info); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, ErrNoTable
		}
		return nil, fmt.Errorf("iptables: IPT_SO_GET_INFO: %w", err)
	}
	ne := binary.NativeEndian
	input := ne.Uint32(info[36+4*hookLocalIn:])
	policy := ne.Uint32(info[56+4*hookLocalIn:])
	forward, fpol := ne.Uint32(info[36+4*hookForward:]), ne.Uint32(info[56+4*hookForward:])
	size := ne.Uint32(info[infoSize-4:])
	buf := make([]byte, entriesHead+int(size))
	copy(buf, "filter")
	ne.PutUint32(buf[32:], size)
	if err := getsockopt(fd, soGetEntries, buf); err != nil {
		return nil, fmt.Errorf("iptables: IPT_SO_GET_ENTRIES: %w", err)
	}
	return &Table{blob: buf[entriesHead:], input: input, policy: policy, forward: forward, fpol: fpol}, nil
}

func getsockopt(fd, opt int, buf []byte) error {
	l := uint32(len(buf))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_IP, uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// entry is one struct ipt_entry with its matches and target.
type entry struct {
	off             uint32
	src, smsk       [4]byte
	dst, dmsk       [4]byte
	iniface, inmask [16]byte
	proto           uint16
	invflags        uint8
	targetOff, next uint16
	matches         []ext
	target          ext
}

// ext is a match or target: its name, revision and data.
type ext struct {
	name string
	rev  uint8
	data []byte
}

const (
	entryHead = 112 // sizeof(struct ipt_entry)
	extHead   = 32  // match_size, name[29], revision
)

// Invert flags of struct ipt_ip.
const (
	invVIA   = 0x01
	invSrcIP = 0x08
	invDstIP = 0x10
	invProto = 0x40
)

func (t *Table) entryAt(off uint32) (*entry, error) {
	b := t.blob
	if int(off)+entryHead > len(b) {
		return nil, fmt.Errorf("iptables: entry at %d past the table's %d bytes", off, len(b))
	}
	e := &entry{off: off}
	r := b[off:]
	copy(e.src[:], r[0:4])
	copy(e.dst[:], r[4:8])
	copy(e.smsk[:], r[8:12])
	copy(e.dmsk[:], r[12:16])
	copy(e.iniface[:], r[16:32])
	copy(e.inmask[:], r[48:64])
	e.proto = binary.NativeEndian.Uint16(r[80:])
	e.invflags = r[83]
	e.targetOff = binary.NativeEndian.Uint16(r[88:])
	e.next = binary.NativeEndian.Uint16(r[90:])
	if e.targetOff < entryHead || e.next < e.targetOff+extHead || int(off)+int(e.next) > len(b) {
		return nil, fmt.Errorf("iptables: malformed entry at %d", off)
	}
	for p := uint32(entryHead); p < uint32(e.targetOff); {
		x, n, err := extAt(r[p:e.targetOff])
		if err != nil {
			return nil, err
		}
		e.matches = append(e.matches, x)
		p += n
	}
	x, _, err := extAt(r[e.targetOff:e.next])
	if err != nil {
		return nil, err
	}
	e.target = x
	return e, nil
}

func extAt(b []byte) (ext, uint32, error) {
	if len(b) < extHead {
		return ext{}, 0, fmt.Errorf("iptables: truncated match or target")
	}
	size := uint32(binary.NativeEndian.Uint16(b))
	if size < extHead || int(size) > len(b) {
		return ext{}, 0, fmt.Errorf("iptables: match or target of %d bytes", size)
	}
	name := string(bytes.TrimRight(b[2:31], "\x00"))
	return ext{name: name, rev: b[31], data: b[extHead:size]}, size, nil
}
