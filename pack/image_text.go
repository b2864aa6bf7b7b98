package pack

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/tokenize"
)

// ModeImageText packs image–text pairs (after image_decode and tokenize)
// into one example per pair, for a contrastive (CLIP, ALIGN, WenLan) or an
// image–text matching (VisualBERT, UNITER) trainer.
//
// Columns of an image_text shard, in order:
//
//	id          utf8                         "ex-N"
//	doc_id      utf8                         the pair's record id
//	image       binary                       the encoded image (JPEG after image_decode)
//	width       int32                        of the encoded image
//	height      int32                        of the encoded image
//	caption     utf8                         the caption text
//	input_ids   fixed_size_list<int32>[caption_len]  caption token ids, cut to caption_len (the last
//	                                         kept id becomes [SEP] when the tokens ended with it), padded with [PAD]
//	length      int32                        caption tokens that are not padding
//	itm_label   int32                        itm only: 1 = the caption belongs to the image, 0 = a mismatched pair
//
// With itm: true every pair is followed by a mismatched one: the same image
// with the caption of a pair drawn (seeded) from the last itmPool pairs
// whose caption differs. The first pair has no partner and gets none
// (counted as itm_no_partner).
const ModeImageText = "image_text"

// Columns of image_text shards (besides id, doc_id, input_ids, length).
const (
	ColImage    = "image"
	ColWidth    = "width"
	ColHeight   = "height"
	ColCaption  = "caption"
	ColITMLabel = "itm_label"
)

// itmPool is how many recent pairs mismatched captions are drawn from.
const itmPool = 256

type itmPair struct {
	docID   string
	caption string
	ids     []int32
	length  int32
}

// imageTextPacker turns each pair into an example record.
type imageTextPacker struct {
	cfg      *Config
	special  tokenize.SpecialTokens
	rng      *rand.Rand
	counters *flow.Counters
	pool     []itmPair // ring of recent pairs
	next     int
}

func newImageTextPacker(c *Config, special tokenize.SpecialTokens, rng *rand.Rand, counters *flow.Counters) *imageTextPacker {
	return &imageTextPacker{cfg: c, special: special, rng: rng, counters: counters}
}

func (p *imageTextPacker) columns() []Column {
	cols := []Column{
		{Name: ColID, Kind: KindString},
		{Name: ColDocID, Kind: KindString},
		{Name: ColImage, Kind: KindBinary},
		{Name: ColWidth, Kind: KindInt32},
		{Name: ColHeight, Kind: KindInt32},
		{Name: ColCaption, Kind: KindString},
		{Name: ColInputIDs, Kind: KindInt32List, Width: p.cfg.CaptionLen},
		{Name: ColLength, Kind: KindInt32},
	}
	if p.cfg.ITM {
		cols = append(cols, Column{Name: ColITMLabel, Kind: KindInt32})
	}
	return cols
}

// captionIDs cuts and pads the caption's token ids to caption_len.
func (p *imageTextPacker) captionIDs(tokens []int32) ([]int32, int32) {
	n := min(len(tokens), p.cfg.CaptionLen)
	ids := padded(tokens[:n], p.cfg.CaptionLen, p.special.PAD)
	if n < len(tokens) && tokens[len(tokens)-1] == p.special.SEP && p.special.SEP >= 0 {
		ids[n-1] = p.special.SEP
		p.counters.Add("captions_truncated", 1)
	}
	return ids, int32(n)
}

// process makes the example(s) of one pair; reject is "" or a reason.
func (p *imageTextPacker) process(s *Stage, r *flow.Record, out func(*flow.Record)) string {
	image, _ := r.Fields[ColImage].([]byte)
	if len(image) == 0 {
		return "no_image"
	}
	w, errW := toInt32(r.Fields[ColWidth])
	h, errH := toInt32(r.Fields[ColHeight])
	if errW != nil || errH != nil {
		return "image_size_unknown" // image_decode sets width and height
	}
	if len(r.Tokens) == 0 {
		return "no_tokens"
	}
	ids, length := p.captionIDs(r.Tokens)
	pair := itmPair{docID: r.ID, caption: r.Text, ids: ids, length: length}
	p.emit(s, r.ID, image, w, h, pair, 1, out)
	if p.cfg.ITM {
		if partner, ok := p.partner(r.Text); ok {
			p.emit(s, r.ID, image, w, h, partner, 0, out)
		} else {
			p.counters.Add("itm_no_partner", 1)
		}
		p.remember(pair)
	}
	return ""
}

// partner draws a recent pair with another caption.
func (p *imageTextPacker) partner(caption string) (itmPair, bool) {
	var candidates []int
	for i, q := range p.pool {
		if q.caption != caption {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		return itmPair{}, false
	}
	return p.pool[candidates[p.rng.IntN(len(candidates))]], true
}

func (p *imageTextPacker) remember(pair itmPair) {
	if len(p.pool) < itmPool {
		p.pool = append(p.pool, pair)
		return
	}
	p.pool[p.next] = pair
	p.next = (p.next + 1) % itmPool
}

func (p *imageTextPacker) emit(s *Stage, docID string, image []byte, w, h int32, pair itmPair, label int32, out func(*flow.Record)) {
	id := "ex-" + strconv.FormatInt(s.nextID, 10)
	s.nextID++
	fields := map[string]any{
		ColDocID: docID, ColImage: image, ColWidth: w, ColHeight: h,
		ColCaption: pair.caption, ColInputIDs: pair.ids, ColLength: pair.length,
	}
	if p.cfg.ITM {
		fields[ColITMLabel] = label
		p.counters.Add(fmt.Sprintf("itm_label_%d", label), 1)
	}
	p.counters.Add("examples", 1)
	p.counters.Add("example_tokens", int64(pair.length))
	p.counters.Add("pad_tokens", int64(p.cfg.CaptionLen)-int64(pair.length))
	p.counters.Add("image_bytes", int64(len(image)))
	ex := &flow.Record{ID: id, Fields: fields}
	AttachLayout(ex, s.layout)
	if s.shuffle != nil {
		s.shuffle.push(ex, out)
	} else {
		out(ex)
	}
}
