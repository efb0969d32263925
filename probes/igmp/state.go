package igmp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// State is what a listener has heard on an interface: the queriers, since when it has
// listened, and how many queriers it let go to stay within its bound. The agent serves it
// as JSON on /igmp.
type State struct {
	Iface    string    `json:"iface"`
	Since    time.Time `json:"since"`
	Now      time.Time `json:"now"`
	Queriers []Querier `json:"queriers"`
	Dropped  uint64    `json:"dropped,omitempty"`
}

// Watch listens on one interface for as long as it runs and keeps a Tracker of what it
// hears; the agent runs one on the cluster interface.
type Watch struct {
	Iface   string
	Tracker *Tracker
	since   time.Time
}

// StartWatch opens a capture on iface and tracks its queriers until ctx ends. It needs
// CAP_NET_RAW; the error says so.
func StartWatch(ctx context.Context, iface string, max int) (*Watch, error) {
	c, err := Open(iface)
	if err != nil {
		return nil, err
	}
	w := &Watch{Iface: iface, Tracker: NewTracker(max), since: time.Now()}
	go func() {
		defer c.Close()
		c.Run(ctx, func(e Event) {
			if !e.Out {
				w.Tracker.Heard(e.Packet, e.At)
			}
		})
	}()
	return w, nil
}

// State is a snapshot of what the watch has heard.
func (w *Watch) State() State {
	return State{Iface: w.Iface, Since: w.since, Now: time.Now(), Queriers: w.Tracker.Queriers(), Dropped: w.Tracker.Dropped()}
}

// AskAgent reads the IGMP state of the agent listening at addr (host:port), if one runs.
func AskAgent(ctx context.Context, addr string) (State, error) {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/igmp", nil)
	if err != nil {
		return State{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return State{}, fmt.Errorf("no agent at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return State{}, fmt.Errorf("the agent at %s does not watch IGMP: %s", addr, resp.Status)
	}
	var s State
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&s); err != nil {
		return State{}, fmt.Errorf("the agent at %s: %w", addr, err)
	}
	return s, nil
}
