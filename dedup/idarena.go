package dedup

// idArena stores document ids back to back in one byte slice, so keeping
// the id of every indexed document (for dup_of) costs its length plus 4
// bytes instead of a 16-byte string header and a separate allocation.
type idArena struct {
	bytes []byte
	ends  []uint32
}

func (a *idArena) add(id string) uint32 {
	a.bytes = append(a.bytes, id...)
	a.ends = append(a.ends, uint32(len(a.bytes)))
	return uint32(len(a.ends) - 1)
}

func (a *idArena) get(ord uint32) string {
	start := uint32(0)
	if ord > 0 {
		start = a.ends[ord-1]
	}
	return string(a.bytes[start:a.ends[ord]])
}

func (a *idArena) len() int { return len(a.ends) }

func (a *idArena) size() int { return cap(a.bytes) + 4*cap(a.ends) }
