package trainer

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorgonia.org/tensor"
)

// Benchmarks for BENCHMARKS.md. GFLOP/s and tokens/s are reported as custom
// metrics; peak resident memory (VmHWM) is reported by the train-step
// benchmarks, so run one configuration per process for that figure:
//
//	go test ./trainer -run XXX -bench 'TrainStep/tiny' -benchtime 5x -count 1
//	go test -tags openblas ./trainer -run XXX -bench 'TrainStep/tiny' -benchtime 5x -count 1

func BenchmarkGEMM(b *testing.B) {
	// The tiny model's feed-forward multiply: [4096,128]·[128,512].
	m, k, n := 4096, 128, 512
	flops := 2 * float64(m*n*k)
	a := newDense[float32](m, k)
	w := newDense[float32](k, n)
	c := newDense[float32](m, n)
	for i, v := range values[float32](a) {
		values[float32](a)[i] = float32(i%7) * 0.1
		_ = v
	}
	b.Run("tensor.MatMul/"+BLASName(), func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := tensor.MatMul(a, w, tensor.WithReuse(c)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(flops*float64(b.N)/time.Since(start).Seconds()/1e9, "GFLOP/s")
	})
	b.Run("gemm/"+BLASName(), func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			gemm(false, false, m, n, k, 1, values[float32](a), k, values[float32](w), n, 0, values[float32](c), n)
		}
		b.ReportMetric(flops*float64(b.N)/time.Since(start).Seconds()/1e9, "GFLOP/s")
	})
}

// BenchmarkTrainStep times forward + backward + AdamW on a batch of 32
// sequences of 128 tokens with the bert-base-uncased vocabulary (30522).
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  ModelConfig
	}{{"tiny", TinyConfig(30522)}, {"mini", MiniConfig(30522)}} {
		b.Run(c.name, func(b *testing.B) {
			benchTrainStep(b, c.cfg, 32, 128)
		})
	}
}

func benchTrainStep(b *testing.B, cfg ModelConfig, batch, seq int) {
	m, err := NewModel[float32](cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	o, _ := NewAdamW(DefaultOptimizer(1000), m.Params())
	bt := benchBatch(batch, seq, cfg.VocabSize)
	step := func() {
		m.ZeroGrad()
		if _, err := m.ForwardBackward(bt, 1); err != nil {
			b.Fatal(err)
		}
		o.Step(m.Params())
	}
	step() // allocate the workspace
	b.ResetTimer()
	cpu0 := cpuSeconds()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		step()
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(bt.Tokens()*b.N)/secs, "tokens/s")
	// CPU time is the fairer figure on a machine shared with other jobs: it
	// does not grow when the scheduler gives the process less of the cores.
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/step")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peakRSS-MiB")
}

// benchBatch is full-length sequences with 15 % of positions masked, the
// shape packed shards have.
func benchBatch(batch, seq, vocab int) *Batch {
	bt := syntheticBatch(batch, seq, vocab, 1)
	for i := range bt.Valid {
		if !bt.Valid[i] {
			bt.Valid[i] = true
			bt.InputIDs[i] = 1000 + int32(i%5000)
		}
	}
	bt.MaskedPos, bt.MaskedLabels = nil, nil
	for i := range bt.InputIDs {
		if i%20 < 3 {
			bt.MaskedPos = append(bt.MaskedPos, int32(i))
			bt.MaskedLabels = append(bt.MaskedLabels, bt.InputIDs[i])
		}
	}
	return bt
}

// cpuSeconds is the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// peakRSS is the process's peak resident set (Linux VmHWM), in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
