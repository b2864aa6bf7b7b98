package pack

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strconv"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/tokenize"
)

// Packing modes.
const (
	ModeMLM            = "mlm"
	ModeNSP            = "nsp"
	ModeSpanCorruption = "span_corruption"
)

// Document boundaries in mlm and span_corruption.
const (
	BoundaryCross  = "cross"  // RoBERTa FULL-SENTENCES: examples run on into the next document
	BoundaryStrict = "strict" // RoBERTa DOC-SENTENCES: an example never crosses a document
)

// Config is the `pack` stage's configuration.
type Config struct {
	Vocab       string `yaml:"vocab" help:"the vocabulary the tokenize stage used: special token ids, sentinels and the checksum recorded in the shards" required:"true" path:"input"`
	Mode        string `yaml:"mode" help:"mlm: RoBERTa/BERT masked-LM examples; nsp: BERT segment pairs with a next-sentence label; span_corruption: T5 inputs and targets; image_text: one example per image–text pair (image_text.go)" choices:"mlm,nsp,span_corruption,image_text"`
	SeqLen      int    `yaml:"seq_len" help:"tokens per example, special tokens included (span_corruption: encoder input length)"`
	DocBoundary string `yaml:"doc_boundary" help:"cross: pack documents back to back, separated by [SEP]; strict: never cross a document, pad its tail" choices:"cross,strict"`
	Pad         bool   `yaml:"pad" help:"pad short examples to seq_len, so input_ids is a fixed_size_list; false writes variable-length lists"`
	Seed        uint64 `yaml:"seed" help:"seed of every random choice (masks, NSP pairs, noise spans)"`

	StaticMask     bool    `yaml:"static_mask" help:"mask at pack time like original BERT (labels column); by default the trainer masks dynamically, as RoBERTa showed is better"`
	DupeFactor     int     `yaml:"dupe_factor" help:"with static_mask: write each example this many times with different masks (BERT used 10)"`
	MaskProb       float64 `yaml:"mask_prob" help:"with static_mask: fraction of tokens to predict (80% [MASK], 10% random, 10% unchanged)"`
	MaxPredictions int     `yaml:"max_predictions" help:"with static_mask: cap on predicted tokens per example (BERT: 20 at 128, 80 at 512); 0 = no cap"`

	ShortSeqProb float64 `yaml:"short_seq_prob" help:"nsp: probability of a shorter target length, as BERT, so the model sees short inputs too"`
	NSPPool      int     `yaml:"nsp_pool" help:"nsp: recent documents kept to draw random B segments from"`

	NoiseDensity   float64 `yaml:"noise_density" help:"span_corruption: fraction of tokens replaced by sentinels"`
	MeanSpanLength float64 `yaml:"mean_span_length" help:"span_corruption: mean length of a noise span"`

	CaptionLen int  `yaml:"caption_len" help:"image_text: caption token ids per example, padded or cut to this length"`
	ITM        bool `yaml:"itm" help:"image_text: add a seeded mismatched pair (label 0) after each pair (label 1) for image–text matching"`

	Shuffle ShuffleConfig `yaml:"shuffle" help:"deterministic shuffle buffer over the examples"`
}

// ShuffleConfig configures the shuffle buffer.
type ShuffleConfig struct {
	Buffer int    `yaml:"buffer" help:"examples held to shuffle among; 0 = no shuffle"`
	Seed   uint64 `yaml:"seed" help:"seed of the shuffle"`
}

// DefaultConfig is the `pack` stage's defaults.
func DefaultConfig() Config {
	return Config{
		Mode: ModeMLM, SeqLen: 512, DocBoundary: BoundaryCross, Pad: true,
		DupeFactor: 1, MaskProb: 0.15,
		ShortSeqProb: 0.1, NSPPool: 256,
		NoiseDensity: 0.15, MeanSpanLength: 3,
		CaptionLen: 32,
	}
}

// Validate checks what can be checked without the vocabulary.
func (c *Config) Validate() error {
	field := func(name, format string, args ...any) error {
		return &flow.FieldError{Field: name, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.SeqLen < 8:
		return field("seq_len", "%d is too short: an example needs room for special tokens and text (at least 8)", c.SeqLen)
	case c.SeqLen > 1<<20:
		return field("seq_len", "%d is more than 1048576 tokens", c.SeqLen)
	case c.DupeFactor < 1:
		return field("dupe_factor", "%d must be at least 1", c.DupeFactor)
	case c.DupeFactor > 1 && !c.StaticMask:
		return field("dupe_factor", "%d only makes sense with static_mask: true (otherwise the copies would be identical)", c.DupeFactor)
	case c.MaskProb <= 0 || c.MaskProb >= 1:
		return field("mask_prob", "%g must be between 0 and 1", c.MaskProb)
	case c.MaxPredictions < 0:
		return field("max_predictions", "%d must not be negative", c.MaxPredictions)
	case c.ShortSeqProb < 0 || c.ShortSeqProb > 1:
		return field("short_seq_prob", "%g must be between 0 and 1", c.ShortSeqProb)
	case c.NSPPool < 2:
		return field("nsp_pool", "%d must be at least 2", c.NSPPool)
	case c.NoiseDensity <= 0 || c.NoiseDensity >= 1:
		return field("noise_density", "%g must be between 0 and 1", c.NoiseDensity)
	case c.MeanSpanLength < 1:
		return field("mean_span_length", "%g must be at least 1", c.MeanSpanLength)
	case c.Shuffle.Buffer < 0:
		return field("shuffle.buffer", "%d must not be negative", c.Shuffle.Buffer)
	case c.CaptionLen < 2 || c.CaptionLen > 4096:
		return field("caption_len", "%d must be in [2, 4096]", c.CaptionLen)
	case c.ITM && c.Mode != ModeImageText:
		return field("itm", "is for mode image_text")
	case c.StaticMask && c.Mode == ModeImageText:
		return field("static_mask", "image_text examples are not masked at pack time")
	case c.StaticMask && c.Mode == ModeSpanCorruption:
		return field("static_mask", "span_corruption makes its own noise; static_mask is for mlm and nsp")
	}
	return nil
}

func init() {
	flow.RegisterStage("pack",
		"pack token streams into fixed-length examples: RoBERTa/BERT mlm, BERT nsp pairs or T5 span corruption",
		DefaultConfig(), func(c *Config, env *flow.Env) (flow.Stage, error) { return New(c, env) })
}

// Stage is the `pack` stage: it consumes tokenized documents (Record.Tokens)
// and emits example records whose columns are in Fields, with the Layout
// the arrow sink writes them with.
type Stage struct {
	cfg      Config
	vocab    tokenize.Tokenizer
	special  tokenize.SpecialTokens
	layout   *Layout
	packer   packer
	pairs    *imageTextPacker // mode image_text
	masker   *masker
	shuffle  *shuffleBuffer
	counters *flow.Counters
	logger   *slog.Logger

	nextID        int64
	warnedNil     bool
	warnedWrapped bool
	pending       []*flow.Record // emitted from Process, which has no out
}

// New builds the stage: it loads the vocabulary and checks that it has the
// special tokens the mode needs.
func New(c *Config, env *flow.Env) (*Stage, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	tok, err := tokenize.Load(c.Vocab)
	if err != nil {
		return nil, &flow.FieldError{Field: "vocab", Err: err}
	}
	counters := env.Counters
	if counters == nil {
		counters = &flow.Counters{}
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Stage{cfg: *c, vocab: tok, special: tok.Special(), counters: counters, logger: logger}
	rng := rand.New(rand.NewPCG(c.Seed, 0x7061636b)) // "pack"
	need := func(name string, id int32) error {
		if id < 0 {
			return &flow.FieldError{Field: "vocab", Err: fmt.Errorf("%s has no %s token, which mode %s needs", c.Vocab, name, c.Mode)}
		}
		return nil
	}
	if c.Pad {
		if err := need("padding", s.special.PAD); err != nil {
			return nil, err
		}
	}
	var sentinels []int32
	switch c.Mode {
	case ModeMLM, ModeNSP:
		if err := need("[CLS]", s.special.CLS); err != nil {
			return nil, err
		}
		if err := need("[SEP]", s.special.SEP); err != nil {
			return nil, err
		}
		if c.Mode == ModeMLM {
			s.packer = newMLMPacker(c, s.special)
		} else {
			s.packer = newNSPPacker(c, s.special, sentenceEnds(tok), rng, counters)
		}
	case ModeSpanCorruption:
		eos := s.special.EOS
		if eos < 0 {
			eos = s.special.SEP // BERT vocabularies: [SEP] ends a sequence
		}
		if err := need("end-of-sequence ([SEP] or </s>)", eos); err != nil {
			return nil, err
		}
		sp, err := newSpanPacker(c, eos, s.special.PAD, rng)
		if err != nil {
			return nil, err
		}
		sentinels, err = findSentinels(tok, sp.maxSpans())
		if err != nil {
			return nil, &flow.FieldError{Field: "vocab", Err: err}
		}
		sp.sentinels = sentinels
		s.packer = sp
	case ModeImageText:
		s.pairs = newImageTextPacker(&s.cfg, s.special, rng, counters)
	default:
		return nil, &flow.FieldError{Field: "mode", Err: fmt.Errorf("%q is not mlm, nsp, span_corruption or image_text", c.Mode)}
	}
	if c.StaticMask {
		if err := need("[MASK]", s.special.MASK); err != nil {
			return nil, err
		}
		s.masker = newMasker(c, s.special, tok.VocabSize(), rng)
	}
	if c.Shuffle.Buffer > 0 {
		s.shuffle = newShuffleBuffer(c.Shuffle.Buffer, c.Shuffle.Seed)
	}
	s.layout = s.makeLayout(env, sentinels)
	return s, nil
}

// Layout is the layout of the examples this stage emits.
func (s *Stage) Layout() *Layout { return s.layout }

func (s *Stage) makeLayout(env *flow.Env, sentinels []int32) *Layout {
	width := 0
	if s.cfg.Pad {
		width = s.cfg.SeqLen
	}
	cols := []Column{
		{Name: ColID, Kind: KindString},
		{Name: ColDocID, Kind: KindString},
		{Name: ColInputIDs, Kind: KindInt32List, Width: width},
	}
	if s.pairs != nil {
		cols = nil
	}
	switch s.cfg.Mode {
	case ModeNSP:
		cols = append(cols, Column{Name: ColTokenTypeIDs, Kind: KindInt32List, Width: width})
	case ModeSpanCorruption:
		tw := 0
		if s.cfg.Pad {
			tw = s.packer.(*spanPacker).targetsLength
		}
		cols = append(cols, Column{Name: ColTargets, Kind: KindInt32List, Width: tw})
	}
	if s.cfg.StaticMask {
		cols = append(cols, Column{Name: ColLabels, Kind: KindInt32List, Width: width})
	}
	if s.pairs == nil {
		cols = append(cols, Column{Name: ColLength, Kind: KindInt32})
	} else {
		cols = s.pairs.columns()
	}
	switch s.cfg.Mode {
	case ModeNSP:
		cols = append(cols, Column{Name: ColNextSentenceLabel, Kind: KindInt32})
	case ModeSpanCorruption:
		cols = append(cols, Column{Name: ColTargetsLength, Kind: KindInt32})
	}
	sp := s.special
	specials := map[string]int32{"cls": sp.CLS, "sep": sp.SEP, "pad": sp.PAD, "mask": sp.MASK, "unk": sp.UNK, "bos": sp.BOS, "eos": sp.EOS}
	packCfg := map[string]any{
		"mode": s.cfg.Mode, "seq_len": s.cfg.SeqLen, "doc_boundary": s.cfg.DocBoundary, "pad": s.cfg.Pad, "seed": s.cfg.Seed,
		"static_mask": s.cfg.StaticMask, "shuffle_buffer": s.cfg.Shuffle.Buffer, "shuffle_seed": s.cfg.Shuffle.Seed,
	}
	if s.cfg.StaticMask {
		packCfg["dupe_factor"], packCfg["mask_prob"], packCfg["max_predictions"] = s.cfg.DupeFactor, s.cfg.MaskProb, s.cfg.MaxPredictions
	}
	switch s.cfg.Mode {
	case ModeNSP:
		packCfg["short_seq_prob"], packCfg["nsp_pool"] = s.cfg.ShortSeqProb, s.cfg.NSPPool
	case ModeImageText:
		packCfg["caption_len"], packCfg["itm"] = s.cfg.CaptionLen, s.cfg.ITM
	case ModeSpanCorruption:
		packCfg["noise_density"], packCfg["mean_span_length"] = s.cfg.NoiseDensity, s.cfg.MeanSpanLength
		packCfg["targets_length"], packCfg["sentinels"] = s.packer.(*spanPacker).targetsLength, sentinels
	}
	md := map[string]string{
		MetaVersion:        flow.Version,
		MetaMode:           s.cfg.Mode,
		MetaSeqLen:         strconv.Itoa(s.cfg.SeqLen),
		MetaTokenizer:      s.vocab.Kind(),
		MetaVocabSHA256:    s.vocab.VocabSHA256(),
		MetaVocabSize:      strconv.Itoa(s.vocab.VocabSize()),
		MetaVocabFile:      filepath.Base(s.cfg.Vocab),
		MetaSpecialTokens:  mustJSON(specials),
		MetaPackConfig:     mustJSON(packCfg),
		MetaPipeline:       env.PipelineName,
		MetaPipelineSHA256: env.PipelineSHA256,
	}
	return &Layout{Columns: cols, Metadata: md}
}

func mustJSON(v any) string {
	data, err := json.Marshal(v) // maps marshal with sorted keys: deterministic
	if err != nil {
		panic(fmt.Sprintf("pack: %v", err)) // plain maps of numbers and strings
	}
	return string(data)
}

// Sequential: packing depends on document order.
func (s *Stage) Sequential() {}

// Process consumes a document when the engine does not use ProcessEmit; what
// it packs is emitted by the next ProcessEmit or Flush.
func (s *Stage) Process(r *flow.Record) string {
	return s.ProcessEmit(r, func(ex *flow.Record) { s.pending = append(s.pending, ex) })
}

// ProcessEmit consumes one tokenized document and emits the examples it
// completes.
func (s *Stage) ProcessEmit(r *flow.Record, out func(*flow.Record)) string {
	s.drainPending(out)
	if s.pairs != nil {
		return s.pairs.process(s, r, out)
	}
	if len(r.Tokens) == 0 {
		if r.Tokens == nil && !s.warnedNil {
			s.warnedNil = true
			s.logger.Warn("pack: a record has no token ids; is there a tokenize stage before pack?", "record", r.ID, "source", r.Source)
		}
		return "no_tokens"
	}
	vocabSize := int32(s.vocab.VocabSize())
	for _, id := range r.Tokens {
		if id < 0 || id >= vocabSize {
			s.logger.Warn("pack: token id outside the vocabulary; record skipped", "record", r.ID, "id", id, "vocab_size", vocabSize)
			return "token_id_out_of_range"
		}
	}
	if !s.warnedWrapped && s.special.CLS >= 0 && r.Tokens[0] == s.special.CLS {
		s.warnedWrapped = true
		s.logger.Warn("pack: token ids already start with the [CLS]/<s> token; pack adds special tokens itself, so tokenize with add_special: false", "record", r.ID)
	}
	s.counters.Add("tokens_in", int64(len(r.Tokens)))
	s.packer.add(r.ID, r.Tokens, func(ex *example) { s.emit(ex, out) })
	return ""
}

// Flush emits the last, partial example and empties the shuffle buffer.
func (s *Stage) Flush(out func(*flow.Record)) error {
	s.drainPending(out)
	if s.packer != nil {
		s.packer.flush(func(ex *example) { s.emit(ex, out) })
	}
	if s.shuffle != nil {
		s.shuffle.drain(out)
	}
	return nil
}

func (s *Stage) drainPending(out func(*flow.Record)) {
	for _, r := range s.pending {
		out(r)
	}
	s.pending = s.pending[:0]
}

// emit turns a packed example into records (dupe_factor copies with their
// own masks) and passes them through the shuffle buffer.
func (s *Stage) emit(ex *example, out func(*flow.Record)) {
	copies := 1
	if s.masker != nil {
		copies = s.cfg.DupeFactor
	}
	for c := 0; c < copies; c++ {
		r := s.record(ex)
		if s.shuffle != nil {
			s.shuffle.push(r, out)
		} else {
			out(r)
		}
	}
}

// record makes the example record, padding to seq_len when asked.
func (s *Stage) record(ex *example) *flow.Record {
	id := "ex-" + strconv.FormatInt(s.nextID, 10)
	s.nextID++
	length := len(ex.inputIDs)
	width := length
	if s.cfg.Pad {
		width = s.cfg.SeqLen
	}
	inputIDs := padded(ex.inputIDs, width, s.special.PAD)
	fields := make(map[string]any, 8)
	fields[ColDocID] = ex.docID
	fields[ColLength] = int32(length)
	if ex.tokenTypeIDs != nil {
		fields[ColTokenTypeIDs] = padded(ex.tokenTypeIDs, width, 0)
	}
	if s.cfg.Mode == ModeNSP {
		fields[ColNextSentenceLabel] = ex.nextSentenceLabel
	}
	if ex.targets != nil {
		tw := len(ex.targets)
		if s.cfg.Pad {
			tw = s.packer.(*spanPacker).targetsLength
		}
		fields[ColTargets] = padded(ex.targets, tw, s.special.PAD)
		fields[ColTargetsLength] = int32(len(ex.targets))
		s.counters.Add("targets_tokens", int64(len(ex.targets)))
	}
	if s.masker != nil {
		labels := make([]int32, width)
		for i := range labels {
			labels[i] = IgnoreLabel
		}
		s.counters.Add("masked_tokens", int64(s.masker.mask(inputIDs[:length], labels[:length])))
		fields[ColLabels] = labels
	}
	fields[ColInputIDs] = inputIDs
	s.counters.Add("examples", 1)
	s.counters.Add("example_tokens", int64(length))
	s.counters.Add("pad_tokens", int64(width-length))
	r := &flow.Record{ID: id, Fields: fields}
	AttachLayout(r, s.layout)
	return r
}

// padded returns ids extended to width with pad, in a new slice.
func padded(ids []int32, width int, pad int32) []int32 {
	out := make([]int32, width)
	n := copy(out, ids)
	for i := n; i < width; i++ {
		out[i] = pad
	}
	return out
}

// example is what a packer produces, before padding and masking.
type example struct {
	docID             string
	inputIDs          []int32
	tokenTypeIDs      []int32
	targets           []int32
	nextSentenceLabel int32
}

// packer turns documents' token streams into examples.
type packer interface {
	add(docID string, tokens []int32, emit func(*example))
	flush(emit func(*example))
}
