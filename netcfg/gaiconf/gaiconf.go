// Package gaiconf reads /etc/gai.conf, glibc's configuration of how getaddrinfo sorts the
// addresses of a name (RFC 3484 destination address selection): label, precedence and
// scopev4 lines replace glibc's built-in tables. Lines glibc would not accept are skipped,
// as glibc skips them.
package gaiconf

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// MaxSize caps the input; the file Debian ships is 2.5 kB of comments.
const MaxSize = 1 << 20

// Entry maps an IPv6 prefix (IPv4 as ::ffff:a.b.c.d/96+n) to a value.
type Entry struct {
	Prefix netip.Prefix
	Value  int
	Line   int
}

// Config is what gai.conf sets. A nil table means glibc's built-in one.
type Config struct {
	Labels, Precedence, Scopes []Entry
}

// Parse reads gai.conf. Only I/O and size are errors.
func Parse(r io.Reader) (*Config, error) {
	sc := bufio.NewScanner(io.LimitReader(r, MaxSize+1))
	sc.Buffer(make([]byte, 64<<10), MaxSize+1)
	c := &Config{}
	read := 0
	for n := 1; sc.Scan(); n++ {
		read += len(sc.Bytes()) + 1
		if read > MaxSize+1 {
			return nil, fmt.Errorf("gai.conf larger than %d bytes", MaxSize)
		}
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		val, err := strconv.ParseUint(f[2], 10, 31)
		if err != nil {
			continue
		}
		switch f[0] {
		case "label", "precedence":
			p, ok := parseV6Prefix(f[1])
			if !ok {
				continue
			}
			e := Entry{Prefix: p, Value: int(val), Line: n}
			if f[0] == "label" {
				c.Labels = append(c.Labels, e)
			} else {
				c.Precedence = append(c.Precedence, e)
			}
		case "scopev4":
			if p, ok := parseScope(f[1]); ok {
				c.Scopes = append(c.Scopes, Entry{Prefix: p, Value: int(val), Line: n})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read gai.conf: %w", err)
	}
	return c, nil
}

// parseV6Prefix reads "ADDR/BITS" or "ADDR" (128 bits), IPv6 only, as glibc does.
func parseV6Prefix(s string) (netip.Prefix, bool) {
	a, bitsStr, has := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(a)
	if err != nil || !addr.Is6() || addr.Zone() != "" {
		return netip.Prefix{}, false
	}
	bits := 128
	if has {
		b, err := strconv.Atoi(bitsStr)
		if err != nil || b < 0 || b > 128 {
			return netip.Prefix{}, false
		}
		bits = b
	}
	return netip.PrefixFrom(addr, bits).Masked(), true
}

// parseScope reads a scopev4 prefix: ::ffff:a.b.c.d/96..128 or a.b.c.d/0..32, kept in
// the IPv4-mapped form.
func parseScope(s string) (netip.Prefix, bool) {
	a, bitsStr, has := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return netip.Prefix{}, false
	}
	if addr.Is4() {
		bits := 32
		if has {
			if bits, err = strconv.Atoi(bitsStr); err != nil || bits < 0 || bits > 32 {
				return netip.Prefix{}, false
			}
		}
		return netip.PrefixFrom(netip.AddrFrom16(addr.As16()), 96+bits).Masked(), true
	}
	if !addr.Is4In6() {
		return netip.Prefix{}, false
	}
	bits := 128
	if has {
		if bits, err = strconv.Atoi(bitsStr); err != nil || bits < 96 || bits > 128 {
			return netip.Prefix{}, false
		}
	}
	return netip.PrefixFrom(addr, bits).Masked(), true
}

// Sorted returns the entries most specific first, with the default entry glibc adds
// (catchAll with def: ::/0 for labels and precedence, ::ffff:0:0/96 for scopes) when the
// file gives none; nil stays nil.
func Sorted(es []Entry, catchAll netip.Prefix, def int) []Entry {
	if es == nil {
		return nil
	}
	out := append([]Entry(nil), es...)
	// glibc builds its list by prepending, then sorts by prefix length with an unstable
	// sort; for equal lengths the later line comes first in practice, which only matters
	// for duplicate prefixes.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	hasNull := false
	for _, e := range out {
		hasNull = hasNull || e.Prefix.Bits() == catchAll.Bits()
	}
	if !hasNull {
		out = append(out, Entry{Prefix: catchAll, Value: def})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Prefix.Bits() > out[j].Prefix.Bits() })
	return out
}
