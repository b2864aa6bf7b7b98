//go:build !amd64 || purego

package dedup

const useVectorMinima = false

func blockMinimaVector(out *uint32, pairs *uint64, blocks, stride int, a, b uint64) {
	panic("dedup: no vector block minima on this platform")
}
