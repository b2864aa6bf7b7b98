package trainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/imageutil"
	"github.com/corpusflow/corpusflow/pack"
	"github.com/corpusflow/corpusflow/tokenize"
)

// SynthPairs generates image–caption pairs whose content is known: 1–3
// shapes of one colour and kind in one half of the picture, described in
// English ("two red circles on the left") or Chinese ("左边有两个红色的圆").
// A model that learns the pairing must see colour, shape, number and place,
// so held-out retrieval recall measures learning, against a chance level
// that is known exactly. The same (Seed, index) always gives the same pair.
type SynthPairs struct {
	Lang string // "en" or "zh"
	Size int    // picture side in pixels (default 64)
	Seed uint64
	// Colours, Shapes, Counts and Places restrict the content to the first
	// n choices of each (0: all 6 colours, 3 shapes, 3 counts, 4 places),
	// for quick tests of an easier task.
	Colours, Shapes, Counts, Places int
}

// SynthContent is what a synthetic picture shows.
type SynthContent struct {
	Count  int
	Colour int // index into the palette
	Shape  int // circle, square, triangle
	Place  int // left, right, top, bottom
}

var (
	synthPalette = []color.RGBA{
		{220, 30, 30, 255}, {30, 160, 50, 255}, {30, 70, 220, 255},
		{235, 200, 20, 255}, {140, 50, 180, 255}, {245, 130, 20, 255},
	}
	synthColoursEN = []string{"red", "green", "blue", "yellow", "purple", "orange"}
	synthColoursZH = []string{"红色", "绿色", "蓝色", "黄色", "紫色", "橙色"}
	synthShapesEN  = [][2]string{{"circle", "circles"}, {"square", "squares"}, {"triangle", "triangles"}}
	synthShapesZH  = []string{"圆", "正方形", "三角形"}
	synthCountsEN  = []string{"one", "two", "three"}
	synthCountsZH  = []string{"一个", "两个", "三个"}
	synthPlacesEN  = []string{"on the left", "on the right", "at the top", "at the bottom"}
	synthPlacesZH  = []string{"左边", "右边", "上边", "下边"}
)

func choices(limit, all int) int {
	if limit <= 0 || limit > all {
		return all
	}
	return limit
}

// Distinct is the number of different contents (and captions).
func (g SynthPairs) Distinct() int {
	return choices(g.Colours, len(synthPalette)) * choices(g.Shapes, 3) * choices(g.Counts, 3) * choices(g.Places, 4)
}

// Content draws pair i's content.
func (g SynthPairs) Content(i int) SynthContent {
	rng := rand.New(rand.NewPCG(g.Seed, uint64(i)))
	return SynthContent{
		Count:  1 + rng.IntN(choices(g.Counts, 3)),
		Colour: rng.IntN(choices(g.Colours, len(synthPalette))),
		Shape:  rng.IntN(choices(g.Shapes, 3)),
		Place:  rng.IntN(choices(g.Places, 4)),
	}
}

// Caption describes c in the generator's language.
func (g SynthPairs) Caption(c SynthContent) string {
	if g.Lang == "zh" {
		return synthPlacesZH[c.Place] + "有" + synthCountsZH[c.Count-1] + synthColoursZH[c.Colour] + "的" + synthShapesZH[c.Shape]
	}
	shape := synthShapesEN[c.Shape][0]
	if c.Count > 1 {
		shape = synthShapesEN[c.Shape][1]
	}
	return synthCountsEN[c.Count-1] + " " + synthColoursEN[c.Colour] + " " + shape + " " + synthPlacesEN[c.Place]
}

// Pair returns pair i: its caption and its picture as a JPEG.
func (g SynthPairs) Pair(i int) (caption string, jpeg []byte, err error) {
	c := g.Content(i)
	img := g.Draw(i, c)
	jpeg, err = imageutil.EncodeJPEG(img, 90)
	return g.Caption(c), jpeg, err
}

// Draw paints c: a light background of random tint, and c.Count shapes of
// random size, position and shade inside the named half, not touching, and
// reaching across the other midline so that no other half holds them all.
func (g SynthPairs) Draw(i int, c SynthContent) *image.RGBA {
	S := g.Size
	if S <= 0 {
		S = 64
	}
	rng := rand.New(rand.NewPCG(g.Seed^0x73796e7468, uint64(i))) // "synth"
	img := image.NewRGBA(image.Rect(0, 0, S, S))
	bg := color.RGBA{uint8(205 + rng.IntN(50)), uint8(205 + rng.IntN(50)), uint8(205 + rng.IntN(50)), 255}
	for p := 0; p < len(img.Pix); p += 4 {
		img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = bg.R, bg.G, bg.B, 255
	}
	// The half the shapes stay in.
	x0, y0, x1, y1 := 0, 0, S, S
	switch c.Place {
	case 0:
		x1 = S / 2
	case 1:
		x0 = S / 2
	case 2:
		y1 = S / 2
	case 3:
		y0 = S / 2
	}
	vertical := c.Place >= 2 // top or bottom: the other halves are left and right
	type disc struct{ x, y, r float64 }
	var placed []disc
	// A layout is redrawn until the shapes do not touch and reach across the
	// other midline: shapes all in the top-left corner would make "on the
	// left" and "at the top" both true, and a retrieval of either right.
	for attempt := 0; attempt < 200; attempt++ {
		placed = placed[:0]
		for k := 0; k < c.Count; k++ {
			r := float64(S) * (0.08 + 0.04*rng.Float64())
			d := disc{
				x: float64(x0) + r + 1 + rng.Float64()*math.Max(0, float64(x1-x0)-2*r-2),
				y: float64(y0) + r + 1 + rng.Float64()*math.Max(0, float64(y1-y0)-2*r-2),
				r: r,
			}
			placed = append(placed, d)
		}
		apart := true
		lo, hi := math.Inf(1), math.Inf(-1)
		for k, d := range placed {
			e := shapeExtent(c.Shape, d.r)
			for _, o := range placed[:k] {
				// Bounding boxes at least a pixel apart: exact for squares,
				// safe for the others.
				gap := e + shapeExtent(c.Shape, o.r) + 1
				if math.Abs(d.x-o.x) < gap && math.Abs(d.y-o.y) < gap {
					apart = false
				}
			}
			at := d.y
			if vertical {
				at = d.x
			}
			lo, hi = math.Min(lo, at-e), math.Max(hi, at+e)
		}
		mid := float64(S) / 2
		if apart && lo < mid-2 && hi > mid+2 {
			break
		}
	}
	base := synthPalette[c.Colour]
	for _, d := range placed {
		jit := func(v uint8) uint8 { return uint8(min(255, max(0, int(v)+rng.IntN(31)-15))) }
		col := color.RGBA{jit(base.R), jit(base.G), jit(base.B), 255}
		paintShape(img, c.Shape, d.x, d.y, d.r, col)
	}
	return img
}

// shapeExtent is how far a shape of size r reaches from its centre along
// either axis.
func shapeExtent(shape int, r float64) float64 {
	if shape == 1 {
		return 0.85 * r // the square's half side, as paintShape draws it
	}
	return r
}

// paintShape fills a circle, an axis-aligned square or an upward triangle
// of circumradius-like size r centred at (cx, cy).
func paintShape(img *image.RGBA, shape int, cx, cy, r float64, col color.RGBA) {
	b := img.Bounds()
	for y := max(b.Min.Y, int(cy-r-1)); y <= min(b.Max.Y-1, int(cy+r+1)); y++ {
		for x := max(b.Min.X, int(cx-r-1)); x <= min(b.Max.X-1, int(cx+r+1)); x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			inside := false
			switch shape {
			case 0:
				inside = dx*dx+dy*dy <= r*r
			case 1:
				h := shapeExtent(1, r)
				inside = math.Abs(dx) <= h && math.Abs(dy) <= h
			case 2:
				// Apex at the top, base at the bottom: |dx| grows with dy.
				t := (dy + r) / (2 * r)
				inside = t >= 0 && t <= 1 && math.Abs(dx) <= t*r
			}
			if inside {
				img.SetRGBA(x, y, col)
			}
		}
	}
}

// WriteFolder writes pairs [0, n) as dir/images/synth-N.jpg and
// dir/pairs.jsonl (fields id, image, caption), the input of an image_text
// source (type: image_text, caption_column: caption, image_column: image),
// so the pairs can go through a whole pipeline.
func (g SynthPairs) WriteFolder(dir string, n int) error {
	if err := os.MkdirAll(filepath.Join(dir, "images"), 0o755); err != nil {
		return err
	}
	var lines bytes.Buffer
	enc := json.NewEncoder(&lines)
	enc.SetEscapeHTML(false)
	for i := 0; i < n; i++ {
		caption, jpeg, err := g.Pair(i)
		if err != nil {
			return fmt.Errorf("synthetic pair %d: %w", i, err)
		}
		name := fmt.Sprintf("synth-%s-%d.jpg", g.Lang, i)
		if err := os.WriteFile(filepath.Join(dir, "images", name), jpeg, 0o644); err != nil {
			return err
		}
		if err := enc.Encode(map[string]string{"id": fmt.Sprintf("synth-%s-%d", g.Lang, i), "image": "images/" + name, "caption": caption}); err != nil {
			return err
		}
	}
	return writeFileAtomic(filepath.Join(dir, "pairs.jsonl"), lines.Bytes())
}

// SynthShardsOptions say how WriteShards packs the pairs.
type SynthShardsOptions struct {
	Vocab      string // vocab.txt or tokenizer.json
	CaptionLen int    // token ids per caption (default 16)
	MaxRows    int    // rows per shard (default 1024)
}

// WriteShards writes pairs [0, n) as image_text shards into dir with
// corpusflow's own tokenizer (captions wrapped in [CLS] … [SEP]), pack
// stage and shard writer: the same bytes a pipeline ending in
// `pack: {mode: image_text}` and an arrow sink would write.
func (g SynthPairs) WriteShards(dir string, n int, opts SynthShardsOptions) error {
	tok, err := tokenize.Load(opts.Vocab)
	if err != nil {
		return err
	}
	prefix, suffix := tokenize.SpecialWrap(tok)
	cfg := pack.DefaultConfig()
	cfg.Vocab, cfg.Mode = opts.Vocab, pack.ModeImageText
	if opts.CaptionLen > 0 {
		cfg.CaptionLen = opts.CaptionLen
	} else {
		cfg.CaptionLen = 16
	}
	counters := &flow.Counters{}
	st, err := pack.New(&cfg, &flow.Env{Counters: counters})
	if err != nil {
		return err
	}
	maxRows := opts.MaxRows
	if maxRows <= 0 {
		maxRows = 1024
	}
	w, err := pack.NewShardWriter(pack.WriterOptions{Dir: dir, MaxRows: int64(maxRows)})
	if err != nil {
		return err
	}
	var werr error
	emit := func(r *flow.Record) {
		if err := w.Write(r); err != nil && werr == nil {
			werr = err
		}
	}
	S := g.Size
	if S <= 0 {
		S = 64
	}
	for i := 0; i < n; i++ {
		caption, jpeg, err := g.Pair(i)
		if err != nil {
			return fmt.Errorf("synthetic pair %d: %w", i, err)
		}
		ids := append(append(append([]int32(nil), prefix...), tok.Encode(caption, nil)...), suffix...)
		r := &flow.Record{ID: fmt.Sprintf("synth-%s-%d", g.Lang, i), Text: caption, Tokens: ids,
			Fields: map[string]any{pack.ColImage: jpeg, pack.ColWidth: int32(S), pack.ColHeight: int32(S)}}
		if reason := st.ProcessEmit(r, emit); reason != "" {
			return fmt.Errorf("synthetic pair %d rejected by pack: %s", i, reason)
		}
		if werr != nil {
			return werr
		}
	}
	if err := st.Flush(emit); err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	return w.Close()
}
