//go:build !purego

#include "textflag.h"

// Lane i of Z0 gets block i's least a·x+b over its 8 pairs; pair p of 8
// consecutive blocks is 8 consecutive uint64 at SI + p·stride·8.
// PAIR folds the pairs loaded into reg into Z0.
#define PAIR(reg) \
	VPMULLQ Z1, reg, reg \
	VPADDQ  Z2, reg, reg \
	VPMINUQ reg, Z0, Z0

// func blockMinimaVector(out *uint32, pairs *uint64, blocks, stride int, a, b uint64)
//
// Blocks are done 8 at a time; the last, shorter group with masked loads
// (lanes past the end read as 0 and never fault) and a masked store.
TEXT ·blockMinimaVector(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ pairs+8(FP), SI
	MOVQ blocks+16(FP), DX
	MOVQ stride+24(FP), R8
	SHLQ $3, R8                 // stride in bytes
	LEAQ (R8)(R8*2), R9         // 3·stride
	LEAQ (R8)(R8*4), R10        // 5·stride
	LEAQ (R9)(R9*1), R11        // 6·stride
	LEAQ (R11)(R8*1), R12       // 7·stride
	VPBROADCASTQ a+32(FP), Z1
	VPBROADCASTQ b+40(FP), Z2
	MOVQ DX, CX
	SHRQ $3, CX                 // whole groups of 8 blocks
	ANDQ $7, DX                 // blocks left over
	TESTQ CX, CX
	JZ   tail

loop:
	VMOVDQU64 (SI), Z0
	VPMULLQ   Z1, Z0, Z0
	VPADDQ    Z2, Z0, Z0
	VMOVDQU64 (SI)(R8*1), Z3
	PAIR(Z3)
	VMOVDQU64 (SI)(R8*2), Z4
	PAIR(Z4)
	VMOVDQU64 (SI)(R9*1), Z5
	PAIR(Z5)
	VMOVDQU64 (SI)(R8*4), Z6
	PAIR(Z6)
	VMOVDQU64 (SI)(R10*1), Z7
	PAIR(Z7)
	VMOVDQU64 (SI)(R11*1), Z8
	PAIR(Z8)
	VMOVDQU64 (SI)(R12*1), Z9
	PAIR(Z9)
	VPSRLQ    $32, Z0, Z0
	VPMOVQD   Z0, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop

tail:
	TESTQ DX, DX
	JZ   done
	MOVQ $8, CX
	SUBQ DX, CX
	MOVQ $0xff, AX
	SHRQ CX, AX                 // the low DX bits
	KMOVB AX, K1
	VMOVDQU64.Z (SI), K1, Z0
	VPMULLQ   Z1, Z0, Z0
	VPADDQ    Z2, Z0, Z0
	VMOVDQU64.Z (SI)(R8*1), K1, Z3
	PAIR(Z3)
	VMOVDQU64.Z (SI)(R8*2), K1, Z4
	PAIR(Z4)
	VMOVDQU64.Z (SI)(R9*1), K1, Z5
	PAIR(Z5)
	VMOVDQU64.Z (SI)(R8*4), K1, Z6
	PAIR(Z6)
	VMOVDQU64.Z (SI)(R10*1), K1, Z7
	PAIR(Z7)
	VMOVDQU64.Z (SI)(R11*1), K1, Z8
	PAIR(Z8)
	VMOVDQU64.Z (SI)(R12*1), K1, Z9
	PAIR(Z9)
	VPSRLQ    $32, Z0, Z0
	VPMOVQD   Z0, K1, (DI)

done:
	VZEROUPPER
	RET
