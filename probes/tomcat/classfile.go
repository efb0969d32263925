package tomcat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// classInfo is what Tomcat's digester can set on an object of a class, read from its
// class file: its public one-argument setters of the types IntrospectionUtils.setProperty
// converts to (by what follows "set": "AutoBind"), whether it has the generic
// setProperty(String, String) that takes any attribute, and its superclass.
type classInfo struct {
	Name, Super string // dotted; Super "" for java.lang.Object
	Setters     map[string]bool
	SetProperty bool
}

// setterTypes are the parameter descriptors IntrospectionUtils.setProperty converts an
// attribute's text to (String, int, long, boolean and their boxes, InetAddress).
var setterTypes = map[string]bool{
	"Ljava/lang/String;": true, "I": true, "Ljava/lang/Integer;": true, "J": true, "Ljava/lang/Long;": true,
	"Z": true, "Ljava/lang/Boolean;": true, "Ljava/net/InetAddress;": true,
}

// errClassFile is a class file that cannot be read.
var errClassFile = errors.New("not a class file")

// parseClass reads a class file (JVM specification, chapter 4): the constant pool, the
// class and its superclass, and the public methods' names and descriptors.
func parseClass(b []byte) (*classInfo, error) {
	r := classReader{b: b}
	if r.u4() != 0xCAFEBABE {
		return nil, errClassFile
	}
	r.skip(4) // minor, major version
	n := int(r.u2())
	utf8s := make([]string, n)
	classes := make([]int, n) // a Class entry's name index
	for i := 1; i < n && r.err == nil; i++ {
		switch tag := r.u1(); tag {
		case 1: // Utf8 (modified UTF-8; the names read here are ASCII)
			l := int(r.u2())
			utf8s[i] = string(r.bytes(l))
		case 7: // Class
			classes[i] = int(r.u2())
		case 8, 16, 19, 20: // String, MethodType, Module, Package
			r.skip(2)
		case 15: // MethodHandle
			r.skip(3)
		case 3, 4, 9, 10, 11, 12, 17, 18: // Integer, Float, refs, NameAndType, Dynamic, InvokeDynamic
			r.skip(4)
		case 5, 6: // Long, Double: two entries
			r.skip(8)
			i++
		default:
			return nil, fmt.Errorf("%w: constant pool tag %d", errClassFile, tag)
		}
	}
	className := func(idx int) string {
		if idx <= 0 || idx >= n || classes[idx] <= 0 || classes[idx] >= n {
			return ""
		}
		return strings.ReplaceAll(utf8s[classes[idx]], "/", ".")
	}
	r.skip(2) // access flags
	ci := &classInfo{Name: className(int(r.u2())), Super: className(int(r.u2())), Setters: map[string]bool{}}
	if ci.Super == "java.lang.Object" {
		ci.Super = ""
	}
	r.skip(2 * int(r.u2())) // interfaces
	for range int(r.u2()) { // fields
		r.skip(6)
		r.skipAttributes()
	}
	for range int(r.u2()) { // methods
		access, name, desc := r.u2(), int(r.u2()), int(r.u2())
		r.skipAttributes()
		if r.err != nil || access&0x0001 == 0 || name >= n || desc >= n {
			continue
		}
		ci.method(utf8s[name], utf8s[desc])
	}
	r.skipAttributes() // the class's own: a file cut short fails here
	if r.err != nil || ci.Name == "" {
		return nil, fmt.Errorf("%w: truncated", errClassFile)
	}
	return ci, nil
}

// method records a public method that the digester can use to set an attribute.
func (ci *classInfo) method(name, desc string) {
	params, _, ok := strings.Cut(strings.TrimPrefix(desc, "("), ")")
	if !ok {
		return
	}
	if name == "setProperty" && params == "Ljava/lang/String;Ljava/lang/String;" {
		ci.SetProperty = true
		return
	}
	if prop, ok := strings.CutPrefix(name, "set"); ok && prop != "" && setterTypes[params] {
		ci.Setters[prop] = true
	}
}

// capitalize is IntrospectionUtils.capitalize: the setter an attribute names is "set"
// and the attribute with its first letter upper-cased.
func capitalize(attr string) string {
	first, size := utf8.DecodeRuneInString(attr)
	return string(unicode.ToUpper(first)) + attr[size:]
}

// propertyName is how a setter is written as an attribute: its first letter lower-cased.
func propertyName(setter string) string {
	first, size := utf8.DecodeRuneInString(setter)
	return string(unicode.ToLower(first)) + setter[size:]
}

// classReader reads big-endian fields; past the end it records an error and reads zeros.
type classReader struct {
	b   []byte
	off int
	err error
}

func (r *classReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || r.off+n > len(r.b) {
		r.err = errClassFile
		return nil
	}
	out := r.b[r.off : r.off+n]
	r.off += n
	return out
}

func (r *classReader) skip(n int) { r.bytes(n) }

func (r *classReader) u1() byte {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *classReader) u2() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *classReader) u4() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *classReader) skipAttributes() {
	for range int(r.u2()) {
		r.skip(2)
		r.skip(int(r.u4()))
	}
}
