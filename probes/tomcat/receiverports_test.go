package tomcat

import "testing"

// TestStranded: instances sharing a Receiver range are fine while the range fits them
// all in any start order; a real collision names the instance left without a port.
func TestStranded(t *testing.T) {
	span := func(base, addr string, port, autoBind int) receiverSpan {
		return receiverSpan{&Instance{Base: base}, receiver{Address: addr, Port: port, AutoBind: autoBind}}
	}
	cases := []struct {
		name  string
		spans []receiverSpan
		loser string // "" when every order leaves each a port
	}{
		{"one instance", []receiverSpan{span("a", "auto", 4000, 100)}, ""},
		{"the same range, autoBind 100", []receiverSpan{span("a", "auto", 4000, 100), span("b", "auto", 4000, 100)}, ""},
		{"own ports", []receiverSpan{span("a", "auto", 4000, 1), span("b", "auto", 4001, 1)}, ""},
		{"the same port, no autoBind", []receiverSpan{span("a", "auto", 4000, 1), span("b", "auto", 4000, 1)}, "b"},
		{"a single port inside another's range", []receiverSpan{span("a", "auto", 4000, 100), span("b", "auto", 4000, 1)}, "b"},
		{"a single port past another's start", []receiverSpan{span("a", "auto", 4000, 100), span("b", "auto", 4001, 1)}, ""},
		{"three in two ports", []receiverSpan{span("a", "auto", 4000, 2), span("b", "auto", 4000, 2), span("c", "auto", 4000, 2)}, "c"},
		{"different addresses", []receiverSpan{span("a", "10.0.0.1", 4000, 1), span("b", "10.0.0.2", 4000, 1)}, ""},
		{"auto beside an address", []receiverSpan{span("a", "auto", 4000, 1), span("b", "10.0.0.2", 4000, 1)}, "b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loser, winners, _ := stranded(c.spans)
			got := ""
			if loser != nil {
				got = loser.in.Base
				if len(winners) == 0 {
					t.Errorf("%s stranded, but no winner named", got)
				}
			}
			if got != c.loser {
				t.Errorf("stranded = %q; want %q", got, c.loser)
			}
		})
	}
}
