package mcast

import (
	"encoding/json"
	"errors"
)

// Info is a host's settings summary, exchanged between clusterdoctors (authenticated
// when a key is set) so each can see what the others run: what differs between hosts
// breaks clustering in ways no single host can see, and the web tier learns each
// Tomcat's jvmRoute from it.
type Info struct {
	Host    string `json:"host,omitempty"`
	Version string `json:"version,omitempty"` // clusterdoctor's
	// Tomcat is the version of the Tomcat the settings came from; empty without one.
	Tomcat     string `json:"tomcat,omitempty"`
	Membership string `json:"membership,omitempty"` // multicast, static or cloud
	Group      string `json:"group,omitempty"`
	Port       int    `json:"port,omitempty"`
	Domain     string `json:"domain,omitempty"`
	// Cluster and Manager are class names without their package.
	Cluster            string   `json:"cluster,omitempty"`
	Manager            string   `json:"manager,omitempty"`
	Interceptors       []string `json:"interceptors,omitempty"`
	ChannelSendOptions string   `json:"channelSendOptions,omitempty"`
	JvmRoute           string   `json:"jvmRoute,omitempty"`
	ReceiverAddress    string   `json:"receiverAddress,omitempty"`
	ReceiverPort       int      `json:"receiverPort,omitempty"`
	// Encrypt is EncryptInterceptor's wire ("format 2, AES/GCM/NoPadding"); empty without it.
	Encrypt string `json:"encrypt,omitempty"`
	// AJP is the Tomcat's AJP connectors as ADDRESS:PORT (tomcat.Summary's AJP).
	AJP []string `json:"ajp,omitempty"`
}

// infoMax bounds an Info body; an InfoReq carries this much padding.
const infoMax = 1024

// maxField and maxInterceptors bound what a decoded Info holds.
const (
	maxField        = 200
	maxInterceptors = 32
	maxAJP          = 8
)

var errInfo = errors.New("malformed settings summary")

// encodeInfo is the body of an Info message, at most infoMax bytes: interceptors, then
// AJP connectors, are left out from the end when the whole does not fit.
func encodeInfo(in Info) []byte {
	in = in.bounded()
	for {
		b, err := json.Marshal(in)
		if err == nil && len(b) <= infoMax {
			return b
		}
		switch {
		case len(in.Interceptors) > 0:
			in.Interceptors = in.Interceptors[:len(in.Interceptors)-1]
		case len(in.AJP) > 0:
			in.AJP = in.AJP[:len(in.AJP)-1]
		default:
			return []byte("{}")
		}
	}
}

// decodeInfo reads an Info body from a peer: bounded, unknown fields ignored.
func decodeInfo(b []byte) (Info, error) {
	var in Info
	if len(b) > infoMax || json.Unmarshal(b, &in) != nil {
		return Info{}, errInfo
	}
	return in.bounded(), nil
}

// bounded cuts every field to its limit.
func (in Info) bounded() Info {
	cut := func(s string) string {
		if len(s) > maxField {
			return s[:maxField]
		}
		return s
	}
	for _, p := range []*string{&in.Host, &in.Version, &in.Tomcat, &in.Membership, &in.Group, &in.Domain, &in.Cluster,
		&in.Manager, &in.ChannelSendOptions, &in.JvmRoute, &in.ReceiverAddress, &in.Encrypt} {
		*p = cut(*p)
	}
	in.Interceptors = cutList(in.Interceptors, maxInterceptors, cut)
	in.AJP = cutList(in.AJP, maxAJP, cut)
	return in
}

// cutList keeps at most n strings, each cut.
func cutList(l []string, n int, cut func(string) string) []string {
	if len(l) > n {
		l = l[:n]
	}
	out := make([]string, 0, len(l))
	for _, s := range l {
		out = append(out, cut(s))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
