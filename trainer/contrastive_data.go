package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"

	"github.com/corpusflow/corpusflow/internal/imageutil"
	"github.com/corpusflow/corpusflow/pack"
)

// Pair is one image–caption pair as an image_text shard stores it.
type Pair struct {
	// InputIDs are the caption's token ids (caption_len, [PAD]-padded) and
	// Length how many are not padding.
	InputIDs []int32
	Length   int
	Image    []byte // encoded (JPEG after image_decode)
	Caption  string
	DocID    string
	Key      ExampleKey
}

// PairStream yields the pairs of one epoch in order (io.EOF at its end).
type PairStream interface {
	Next(ctx context.Context) (Pair, error)
	// Position is where the next pair will come from, as JSON the source
	// accepts back.
	Position() json.RawMessage
	Close() error
}

// PairSource opens an epoch of pairs from its start or a saved position.
type PairSource interface {
	Open(epoch int, start json.RawMessage) (PairStream, error)
	Describe() string
}

// ShardPairSource reads image_text shards through pack's reader, finished or
// (Follow) still being written. Shards packed with itm: true interleave
// mismatched pairs (itm_label 0) for image–text matching; a contrastive
// model would learn them as positives, so they are skipped.
type ShardPairSource struct {
	Shards ShardSource
	// SkipMismatched drops rows whose itm_label is 0 (set when the shards'
	// pack configuration says itm).
	SkipMismatched bool
}

func (s *ShardPairSource) Describe() string { return "image–text " + s.Shards.Describe() }

// Open opens epoch at start (a pack.Position as JSON) or at its beginning.
func (s *ShardPairSource) Open(epoch int, start json.RawMessage) (PairStream, error) {
	opts := s.Shards.options(epoch)
	if start != nil {
		if err := json.Unmarshal(start, &opts.Start); err != nil {
			return nil, fmt.Errorf("shard position %s: %w", start, err)
		}
		if opts.Start.Epoch != epoch {
			return nil, fmt.Errorf("shard position %s is not in epoch %d", start, epoch)
		}
	}
	r, err := pack.OpenReader(s.Shards.Dir, opts)
	if err != nil {
		return nil, err
	}
	return &pairShardStream{r: r, skipMismatched: s.SkipMismatched}, nil
}

type pairShardStream struct {
	r              *pack.Reader
	skipMismatched bool
}

func (s *pairShardStream) Next(ctx context.Context) (Pair, error) {
	for {
		ex, err := s.r.NextContext(ctx)
		if err != nil {
			return Pair{}, err
		}
		if s.skipMismatched && ex.ITMLabel == 0 {
			continue
		}
		return Pair{
			InputIDs: ex.InputIDs, Length: ex.Length, Image: ex.Image, Caption: ex.Caption, DocID: ex.DocID,
			Key: ExampleKey{Epoch: ex.Position.Epoch, Shard: ex.Position.Shard, Row: ex.Position.Row},
		}, nil
	}
}

func (s *pairShardStream) Position() json.RawMessage {
	b, _ := json.Marshal(s.r.Position())
	return b
}

func (s *pairShardStream) Close() error { return nil }

// imageTextInfo is what the pack configuration of image_text shards says.
type imageTextInfo struct {
	CaptionLen int  `json:"caption_len"`
	ITM        bool `json:"itm"`
}

func readImageTextInfo(md map[string]string) (imageTextInfo, error) {
	var info imageTextInfo
	raw := md[pack.MetaPackConfig]
	if raw == "" {
		return info, errors.New("the shards do not record their pack configuration (caption_len, itm)")
	}
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		return info, fmt.Errorf("pack configuration %q: %w", raw, err)
	}
	if info.CaptionLen < 1 {
		return info, fmt.Errorf("pack configuration %q has no caption_len", raw)
	}
	return info, nil
}

// CLIP's pixel normalisation (the mean and deviation of its training
// images), which ViT-style image towers commonly reuse.
var (
	imageMean = [3]float32{0.48145466, 0.4578275, 0.40821073}
	imageStd  = [3]float32{0.26862954, 0.26130258, 0.27577711}
)

// imagePrep turns encoded image bytes into the image tower's input: decoded
// safely (the pixel count is checked from the header before any pixel is
// decoded), the centre square scaled to size×size, RGB normalised
// channel-major.
type imagePrep struct {
	size      int
	maxPixels int64
}

// defaultMaxPixels bounds the images the trainer decodes (image_decode
// normally resized them long before).
const defaultMaxPixels = 40_000_000

func (p imagePrep) pixels(data []byte, dst []float32) error {
	img, _, err := imageutil.Decode(data, p.maxPixels)
	if err != nil {
		return err
	}
	img, err = imageutil.Resize(img, imageutil.ResizeOptions{Mode: imageutil.ResizeCenterCrop, Size: p.size})
	if err != nil {
		return err
	}
	b := img.Bounds()
	if b.Dx() != p.size || b.Dy() != p.size {
		return fmt.Errorf("resized to %d×%d, want %d×%d", b.Dx(), b.Dy(), p.size, p.size)
	}
	writeCHW(img, p.size, dst)
	return nil
}

// writeCHW writes the R×R image as normalised R, G and B planes.
func writeCHW(img image.Image, R int, dst []float32) {
	b := img.Bounds()
	plane := R * R
	set := func(x, y int, r, g, bl uint8) {
		i := y*R + x
		dst[i] = (float32(r)/255 - imageMean[0]) / imageStd[0]
		dst[plane+i] = (float32(g)/255 - imageMean[1]) / imageStd[1]
		dst[2*plane+i] = (float32(bl)/255 - imageMean[2]) / imageStd[2]
	}
	for y := 0; y < R; y++ {
		for x := 0; x < R; x++ {
			px, py := b.Min.X+x, b.Min.Y+y
			switch im := img.(type) {
			case *image.YCbCr:
				c := im.YCbCrAt(px, py)
				r, g, bl := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				set(x, y, r, g, bl)
			case *image.RGBA:
				c := im.RGBAAt(px, py)
				set(x, y, c.R, c.G, c.B)
			case *image.Gray:
				v := im.GrayAt(px, py).Y
				set(x, y, v, v, v)
			default:
				c := color.NRGBAModel.Convert(img.At(px, py)).(color.NRGBA)
				set(x, y, c.R, c.G, c.B)
			}
		}
	}
}

// pairCollator turns pairs into batches: captions as [CLS] … [SEP] rows of
// textLen tokens (captions tokenized without the special tokens, as the
// tokenize stage does by default, are wrapped here), images decoded in
// parallel.
type pairCollator struct {
	vocab   *Vocab
	cfg     ContrastiveConfig
	textLen int
	prep    imagePrep
}

// captionIDs returns the model's caption row (unpadded) or why the pair
// cannot be used.
func (c *pairCollator) captionIDs(p *Pair) ([]int32, error) {
	n := p.Length
	if n <= 0 || n > len(p.InputIDs) {
		n = 0
		for _, id := range p.InputIDs {
			if id != c.vocab.PAD {
				n++
			}
		}
	}
	ids := p.InputIDs[:n]
	if n == 0 {
		return nil, fmt.Errorf("pair %+v (%s) has an empty caption", p.Key, p.DocID)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= c.cfg.Text.VocabSize {
			return nil, fmt.Errorf("pair %+v (%s) caption token %d: id %d outside the vocabulary of %d", p.Key, p.DocID, i, id, c.cfg.Text.VocabSize)
		}
	}
	out := make([]int32, 0, c.textLen)
	if ids[0] != c.vocab.CLS {
		out = append(out, c.vocab.CLS)
	}
	out = append(out, ids...)
	if out[len(out)-1] != c.vocab.SEP {
		out = append(out, c.vocab.SEP)
	}
	if len(out) > c.textLen {
		out = out[:c.textLen]
		out[c.textLen-1] = c.vocab.SEP
	}
	return out, nil
}

// decoded is a pair ready for a batch.
type decoded struct {
	ids     []int32
	pixels  []float32
	caption string
	key     ExampleKey
}

// prepare decodes the pairs' images on all cores; a pair that fails gets
// its error instead.
func (c *pairCollator) prepare(pairs []Pair) ([]decoded, []error) {
	out := make([]decoded, len(pairs))
	errs := make([]error, len(pairs))
	px := c.cfg.Vision.NumChannels * c.prep.size * c.prep.size
	parallelFor(len(pairs), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := &pairs[i]
			ids, err := c.captionIDs(p)
			if err != nil {
				errs[i] = err
				continue
			}
			pixels := make([]float32, px)
			if err := c.prep.pixels(p.Image, pixels); err != nil {
				errs[i] = fmt.Errorf("pair %+v (%s) image: %w", p.Key, p.DocID, err)
				continue
			}
			out[i] = decoded{ids: ids, pixels: pixels, caption: p.Caption, key: p.Key}
		}
	})
	return out, errs
}

// collate lays decoded pairs out as a batch.
func (c *pairCollator) collate(ds []decoded) *PairBatch {
	B, S := len(ds), c.textLen
	text := &Batch{B: B, S: S, InputIDs: make([]int32, B*S), Valid: make([]bool, B*S)}
	px := c.cfg.Vision.NumChannels * c.prep.size * c.prep.size
	b := &PairBatch{B: B, Text: text, Pixels: make([]float32, 0, B*px), Captions: make([]string, B)}
	for r, d := range ds {
		row := text.InputIDs[r*S : (r+1)*S]
		for i := range row {
			row[i] = c.vocab.PAD
		}
		copy(row, d.ids)
		for i := range d.ids {
			text.Valid[r*S+i] = true
		}
		b.Pixels = append(b.Pixels, d.pixels...)
		b.Captions[r] = d.caption
	}
	return b
}
