package imageutil

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"syscall"
	"testing"
)

// BenchmarkResize: one decoded 640×480 JPEG (4:2:0 YCbCr, what the JPEG
// decoder returns) to 256 px keep_ratio, then JPEG q90 encoding of the
// result, with x/image/draw (the code before) and the plane resampler.
//
//	go test -run XXX -bench BenchmarkResize -benchtime 200x ./internal/imageutil/
func BenchmarkResize(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, SyntheticImage(1, 640, 480), &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	src, err := jpeg.Decode(&buf)
	if err != nil {
		b.Fatal(err)
	}
	o := ResizeOptions{Mode: ResizeKeepRatio, Size: 256}
	for _, c := range []struct {
		name   string
		resize func(image.Image, ResizeOptions) (image.Image, error)
	}{{"xdraw", ResizeXDraw}, {"planes", Resize}} {
		b.Run(fmt.Sprintf("resize/%s", c.name), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuSeconds()
			for i := 0; i < b.N; i++ {
				if _, err := c.resize(src, o); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
		out, _ := c.resize(src, o)
		b.Run(fmt.Sprintf("encode/%s", c.name), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuSeconds()
			for i := 0; i < b.N; i++ {
				if _, err := EncodeJPEG(out, 90); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// cpuSeconds is the CPU time of the process (user+system, all threads):
// on a shared machine the wall clock measures the neighbours too.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func reportCPU(b *testing.B, since float64) {
	b.ReportMetric((cpuSeconds()-since)*1e9/float64(b.N), "cpu-ns/op")
}
