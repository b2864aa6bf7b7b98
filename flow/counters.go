package flow

import (
	"sync"
	"sync/atomic"
)

// Counters is a set of named int64 counters, safe for concurrent use and cheap
// on the hot path: after a name's first use, Add is a lock-free map load and
// an atomic add.
type Counters struct {
	m sync.Map // string -> *atomic.Int64
}

// Add adds n to the counter called name.
func (c *Counters) Add(name string, n int64) {
	if v, ok := c.m.Load(name); ok {
		v.(*atomic.Int64).Add(n)
		return
	}
	v, _ := c.m.LoadOrStore(name, new(atomic.Int64))
	v.(*atomic.Int64).Add(n)
}

// Get returns the counter called name (0 if never added to).
func (c *Counters) Get(name string) int64 {
	if v, ok := c.m.Load(name); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// Snapshot copies every counter into a map (nil when there are none, so JSON
// can omit it).
func (c *Counters) Snapshot() map[string]int64 {
	var out map[string]int64
	c.m.Range(func(k, v any) bool {
		if out == nil {
			out = map[string]int64{}
		}
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}
