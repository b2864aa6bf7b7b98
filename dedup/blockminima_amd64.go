//go:build !purego

package dedup

import "golang.org/x/sys/cpu"

// useVectorMinima: AVX-512 F (and the OS saving its registers) and DQ for
// the 64-bit multiply VPMULLQ.
var useVectorMinima = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// blockMinimaVector does blocks [0, blocks) like blockMinimaGo; it reads
// nothing past them and writes nothing past out[blocks-1].
//
//go:noescape
func blockMinimaVector(out *uint32, pairs *uint64, blocks, stride int, a, b uint64)
