package dedup

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/imageutil"
)

// BenchmarkImagePipeline measures images/s through decode (pixel cap
// first) + size/aspect filter + resize to 256 px (keep_ratio, bilinear) +
// JPEG q90 re-encode + pHash, on the engine: the image_decode and
// image_text work is inlined here (domain packages do not import each
// other) with the same imageutil calls, followed by image_hash. Input: the
// 11 bundled photos (320 px JPEG/PNG) and 21 synthetic 640×480 JPEGs.
//
// resize=xdraw is the code as it was (x/image/draw kernels, RGBA
// intermediate); resize=planes is imageutil.Resize. Besides wall-clock
// images/s it reports images per CPU-second of the whole process (all
// threads, GC included: the machine is shared, so the wall clock swings
// with other people's builds), the cores the run kept busy (cpu-s / wall-s)
// and the share of CPU spent in the garbage collector.
func BenchmarkImagePipeline(b *testing.B) {
	var inputs [][]byte
	for _, n := range bundledPhotos {
		_, data := loadPhoto(b, n)
		inputs = append(inputs, data)
	}
	for s := 0; s < 21; s++ {
		data, _ := imageutil.EncodeJPEG(imageutil.SyntheticImage(uint64(s), 640, 480), 85)
		inputs = append(inputs, data)
	}
	// What the machine gives two goroutines of pure arithmetic right now:
	// if that is not 2 cores, the image runs cannot get 2 either.
	b.Run("machine/spin=2", func(b *testing.B) {
		cpu0, _ := processCPU()
		for i := 0; i < b.N; i++ {
			var wg sync.WaitGroup
			for g := 0; g < 2; g++ {
				wg.Add(1)
				go func(seed uint64) {
					defer wg.Done()
					x := seed
					for k := 0; k < 50_000_000; k++ {
						x = imageutilRand(x)
					}
					spinSink.Add(x)
				}(uint64(g + i))
			}
			wg.Wait()
		}
		cpu1, _ := processCPU()
		b.ReportMetric((cpu1-cpu0)/b.Elapsed().Seconds(), "cores-busy")
	})
	for _, path := range []string{"xdraw", "planes"} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("resize=%s/workers=%d", path, workers), func(b *testing.B) {
				const perOp = 256
				recs := make([]*flow.Record, perOp)
				stage := decodeFilterResize{xdraw: path == "xdraw"}
				b.ReportAllocs()
				runtime.GC()
				cpu0, gc0 := processCPU()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for j := range recs {
						recs[j] = &flow.Record{ID: fmt.Sprint(j), Text: "a caption", Fields: map[string]any{FieldImage: inputs[j%len(inputs)]}}
					}
					_, err := flow.Run(context.Background(), flow.Plan{
						Sources: []flow.NamedSource{{Name: "b", Source: recordsSource(recs)}},
						Stages: []flow.NamedStage{
							{Name: "decode_filter_resize", Stage: stage},
							{Name: "image_hash", Stage: &ImageHasher{cfg: ImageHashConfig{Hash: HashPHash, MaxPixels: 1 << 24}, counters: &flow.Counters{}}},
						},
						Workers: workers, BatchRecords: 16,
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				cpu1, gc1 := processCPU()
				images := float64(b.N * perOp)
				b.ReportMetric(images/b.Elapsed().Seconds(), "images/s")
				if cpu := cpu1 - cpu0; cpu > 0 {
					b.ReportMetric(images/cpu, "images/cpu-s")
					b.ReportMetric(cpu/b.Elapsed().Seconds(), "cores-busy")
					b.ReportMetric(100*(gc1-gc0)/cpu, "gc-cpu-%")
				}
			})
		}
	}
}

// processCPU returns the CPU seconds this process has used (user+system,
// all threads) and the runtime's estimate of the part the garbage collector
// took: pauses, dedicated mark workers and mark assists. Idle-time marking
// is left out: the runtime counts it whenever a P would otherwise idle,
// which with 2 workers on a busy machine is time the OS did not give us.
func processCPU() (total, gc float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		total = float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
	}
	s := []metrics.Sample{
		{Name: "/cpu/classes/gc/pause:cpu-seconds"},
		{Name: "/cpu/classes/gc/mark/dedicated:cpu-seconds"},
		{Name: "/cpu/classes/gc/mark/assist:cpu-seconds"},
	}
	metrics.Read(s)
	for _, v := range s {
		if v.Value.Kind() == metrics.KindFloat64 {
			gc += v.Value.Float64()
		}
	}
	return total, gc
}

var spinSink atomic.Uint64

type decodeFilterResize struct{ xdraw bool }

func (s decodeFilterResize) Process(r *flow.Record) string {
	img, info, err := imageutil.Decode(r.Fields[FieldImage].([]byte), 1<<24)
	if err != nil {
		return "image_corrupt"
	}
	if short, long := min(info.Width, info.Height), max(info.Width, info.Height); short < 200 || float64(long)/float64(short) > 3 {
		return "image_too_small"
	}
	resize := imageutil.Resize
	if s.xdraw {
		resize = imageutil.ResizeXDraw
	}
	out, err := resize(img, imageutil.ResizeOptions{Mode: imageutil.ResizeKeepRatio, Size: 256})
	if err != nil {
		return "resize"
	}
	enc, err := imageutil.EncodeJPEG(out, 90)
	if err != nil {
		return "encode"
	}
	r.Fields[FieldImage] = enc
	return ""
}

// BenchmarkHashIndex: lookups at distance 10 (image_dedup's default) in
// indexes of 10,000, 100,000 and 1,000,000 uniformly random 64-bit hashes,
// by the multi-index hash image_dedup uses, the BK-tree it used before and
// a plain scan. Queries: "miss" is a random hash (almost never within 10 of
// anything), "near" an indexed hash with 5 bits flipped (one hit). Reports
// the fraction of the index whose distance a query computes, CPU time per
// query and the heap the index holds per hash.
//
//	go test -run XXX -bench BenchmarkHashIndex -benchtime 2000x ./dedup/
func BenchmarkHashIndex(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		hashes := make([]uint64, n)
		for i := range hashes {
			hashes[i] = imageutilRand(uint64(i))
		}
		for _, kind := range []string{"mih", "bktree", "scan"} {
			var ix hammingIndex
			var compared func() int64
			heap := heapInUse()
			switch kind {
			case "mih":
				m := &hashIndex{}
				ix, compared = m, func() int64 { return m.Compared }
			case "bktree":
				t := &bkTree{}
				ix, compared = t, func() int64 { return t.Compared }
			case "scan":
				s := &scanIndex{}
				ix, compared = s, func() int64 { return s.compared }
			}
			for i, h := range hashes {
				ix.Add(h, int32(i))
			}
			bytesPerHash := float64(heapInUse()-heap) / float64(n)
			for _, query := range []string{"miss", "near"} {
				b.Run(fmt.Sprintf("n=%d/%s/query=%s", n, kind, query), func(b *testing.B) {
					hits, c0 := 0, compared()
					cpu0, _ := processCPU()
					for i := 0; i < b.N; i++ {
						q := imageutilRand(uint64(1e12) + uint64(i))
						if query == "near" {
							q = hashes[int(q%uint64(n))]
							for k := 0; k < 5; k++ {
								q ^= 1 << (imageutilRand(uint64(i*8+k)) % 64)
							}
						}
						ix.Search(q, defaultImageMaxDistance, func(int32, int) { hits++ })
					}
					cpu1, _ := processCPU()
					b.ReportMetric(float64(compared()-c0)/float64(b.N)/float64(n), "fraction_compared")
					b.ReportMetric((cpu1-cpu0)*1e9/float64(b.N), "cpu-ns/query")
					b.ReportMetric(float64(hits)/float64(b.N), "hits/query")
					b.ReportMetric(bytesPerHash, "heap-B/hash")
				})
			}
			runtime.KeepAlive(ix)
		}
	}
}

// scanIndex is the linear scan, the baseline every index must beat.
type scanIndex struct {
	hashes   []uint64
	ids      []int32
	compared int64
}

func (s *scanIndex) Add(h uint64, id int32) {
	s.hashes = append(s.hashes, h)
	s.ids = append(s.ids, id)
}

func (s *scanIndex) Search(q uint64, maxDist int, found func(int32, int)) {
	s.compared += int64(len(s.hashes))
	for i, h := range s.hashes {
		if d := Hamming(h, q); d <= maxDist {
			found(s.ids[i], d)
		}
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func imageutilRand(x uint64) uint64 { // splitmix64
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
