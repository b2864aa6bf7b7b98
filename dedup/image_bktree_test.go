package dedup

// The BK-tree image_dedup used before the multi-index hash (image_mih.go),
// kept as the baseline that BenchmarkHashIndex compares against and that
// TestHashIndexMatchesLinearScan checks alongside.
//
// bkTree indexes 64-bit hashes for "every hash within distance d of q"
// queries in the Hamming metric (Burkhard & Keller, 1973). Each node's
// children are keyed by their distance to it; by the triangle inequality a
// query need only descend into children whose key is within d of its own
// distance to the node. For d = 10 of 64 bits that prunes little: a query
// compares ~70 % of 100,000 random hashes (BENCHMARKS.md); exact duplicates
// share one node.
type bkTree struct {
	nodes []bkNode
	// Compared counts the distance computations of all queries, so the
	// fraction of the index a query touches can be reported.
	Compared int64
}

type bkNode struct {
	hash     uint64
	items    []int32 // ids of the images with exactly this hash
	children []bkEdge
}

type bkEdge struct {
	dist uint8
	node int32
}

// Len is the number of distinct hashes held.
func (t *bkTree) Len() int { return len(t.nodes) }

// Add inserts id under hash h.
func (t *bkTree) Add(h uint64, id int32) {
	if len(t.nodes) == 0 {
		t.nodes = append(t.nodes, bkNode{hash: h, items: []int32{id}})
		return
	}
	cur := int32(0)
	for {
		n := &t.nodes[cur]
		d := uint8(Hamming(n.hash, h))
		if d == 0 {
			n.items = append(n.items, id)
			return
		}
		next := int32(-1)
		for _, e := range n.children {
			if e.dist == d {
				next = e.node
				break
			}
		}
		if next < 0 {
			t.nodes = append(t.nodes, bkNode{hash: h, items: []int32{id}})
			n = &t.nodes[cur] // append may have moved the slice
			n.children = append(n.children, bkEdge{dist: d, node: int32(len(t.nodes) - 1)})
			return
		}
		cur = next
	}
}

// Search calls found for every id whose hash is within maxDist of q, with
// that distance. Order follows the tree, not distance; callers that need an
// order sort.
func (t *bkTree) Search(q uint64, maxDist int, found func(id int32, dist int)) {
	if len(t.nodes) == 0 {
		return
	}
	stack := []int32{0}
	for len(stack) > 0 {
		n := &t.nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		d := Hamming(n.hash, q)
		t.Compared++
		if d <= maxDist {
			for _, id := range n.items {
				found(id, d)
			}
		}
		for _, e := range n.children {
			if ed := int(e.dist); ed >= d-maxDist && ed <= d+maxDist {
				stack = append(stack, e.node)
			}
		}
	}
}
