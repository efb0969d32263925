package tomcat

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/ianaindex"
)

// charsetReader decodes a document in the encoding its XML declaration names, as the
// JVM's parser does: Tomcat 7 and 8 ship web.xml files declared ISO-8859-1, and
// operators' own files are often windows-1252 or EUC-KR. Names are IANA's (what Java
// accepts in a declaration); US-ASCII is a subset of UTF-8 and read as it is.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToUpper(strings.TrimSpace(label)) {
	case "US-ASCII", "ASCII":
		return input, nil
	}
	enc, err := ianaindex.IANA.Encoding(label)
	if err != nil || enc == nil {
		return nil, fmt.Errorf("encoding %q: not one Java reads", label)
	}
	return enc.NewDecoder().Reader(input), nil
}
