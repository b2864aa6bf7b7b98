package tokenize

import "math/bits"

// byteTrie is a trie over the bytes of the vocabulary's tokens, stored as one
// open-addressing hash table of edges: finding the longest token that starts
// a word is one table probe per byte, with no allocation and no string
// hashing of ever-shorter substrings (which is what makes the reference's
// "try the whole rest, then drop a character" quadratic on long words).
type byteTrie struct {
	// slots hold edges as parent<<40 | byte<<32 | child; 0 is an empty slot
	// (no edge leads back to the root, node 0).
	slots []uint64
	mask  uint64
	// ids[node] is the token id that ends at node, or -1.
	ids []int32
}

const trieRoot = 0

func newByteTrie(expectedBytes int) *byteTrie {
	size := 1 << bits.Len(uint(2*expectedBytes+16))
	return &byteTrie{slots: make([]uint64, size), mask: uint64(size - 1), ids: []int32{-1}}
}

func edgeHash(key uint64) uint64 { return (key * 0x9E3779B97F4A7C15) >> 20 }

// child follows the edge labelled b from node, or returns -1.
func (t *byteTrie) child(node int32, b byte) int32 {
	key := uint64(node)<<8 | uint64(b)
	for h := edgeHash(key) & t.mask; ; h = (h + 1) & t.mask {
		s := t.slots[h]
		if s == 0 {
			return -1
		}
		if s>>32 == key {
			return int32(uint32(s))
		}
	}
}

// insert adds token with id; a token that repeats keeps its last id, as the
// reference's vocabulary map does.
func (t *byteTrie) insert(token string, id int32) {
	node := int32(trieRoot)
	for i := 0; i < len(token); i++ {
		next := t.child(node, token[i])
		if next < 0 {
			next = int32(len(t.ids))
			t.ids = append(t.ids, -1)
			t.addEdge(node, token[i], next)
		}
		node = next
	}
	t.ids[node] = id
}

func (t *byteTrie) addEdge(node int32, b byte, child int32) {
	if uint64(len(t.ids))*2 > uint64(len(t.slots)) {
		t.grow()
	}
	key := uint64(node)<<8 | uint64(b)
	h := edgeHash(key) & t.mask
	for t.slots[h] != 0 {
		h = (h + 1) & t.mask
	}
	t.slots[h] = key<<32 | uint64(uint32(child))
}

func (t *byteTrie) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		h := edgeHash(s>>32) & t.mask
		for t.slots[h] != 0 {
			h = (h + 1) & t.mask
		}
		t.slots[h] = s
	}
}

// walk follows s from node and returns the node reached, or -1.
func (t *byteTrie) walk(node int32, s string) int32 {
	for i := 0; i < len(s) && node >= 0; i++ {
		node = t.child(node, s[i])
	}
	return node
}

// longestPrefix returns the id and length of the longest token that s starts
// with, searching from node (the root, or the node of "##" for
// continuations). Only matches that end on a UTF-8 character boundary count,
// as the reference shortens candidates one character at a time.
func (t *byteTrie) longestPrefix(node int32, s []byte) (id int32, n int) {
	id = -1
	for i := 0; i < len(s); i++ {
		node = t.child(node, s[i])
		if node < 0 {
			break
		}
		if tid := t.ids[node]; tid >= 0 && (i+1 == len(s) || s[i+1]&0xC0 != 0x80) {
			id, n = tid, i+1
		}
	}
	return id, n
}
