package dedup

import (
	"context"
	"fmt"

	"github.com/cespare/xxhash/v2"
	"github.com/corpusflow/corpusflow/flow"
)

// ExactConfig is the YAML configuration of exact_dedup.
type ExactConfig struct {
	Key              string `yaml:"key" choices:"text,url" help:"what must be equal: the normalized text or the normalized URL"`
	URLRule          string `yaml:"url_rule" choices:"c4,params" help:"url key: c4 (C4's rule: scheme and www. removed, everything from ?utm_, ?ref or ?feed on cut, trailing / removed, case kept) or params (lowercase host, only the utm_*, ref and feed parameters and the fragment removed)"`
	StripPunctuation bool   `yaml:"strip_punctuation" help:"text key: ignore punctuation"`
	DigitsToZero     bool   `yaml:"digits_to_zero" help:"text key: treat every digit as 0"`
	// ExpectedDocuments presizes the set so it never grows (optional).
	ExpectedDocuments int `yaml:"expected_documents" help:"presize the index for this many documents (0: grow as needed)"`
}

// Validate checks the configuration.
func (c *ExactConfig) Validate() error {
	if c.Key != "text" && c.Key != "url" {
		return &flow.FieldError{Field: "key", Err: fmt.Errorf("must be text or url, got %q", c.Key)}
	}
	if c.URLRule != "" && c.URLRule != URLRuleC4 && c.URLRule != URLRuleParams {
		return &flow.FieldError{Field: "url_rule", Err: fmt.Errorf("must be c4 or params, got %q", c.URLRule)}
	}
	if c.ExpectedDocuments < 0 {
		return &flow.FieldError{Field: "expected_documents", Err: fmt.Errorf("must not be negative")}
	}
	return nil
}

func init() {
	flow.RegisterStage("exact_dedup",
		"drop documents whose normalized text (NFKC, case-folded, whitespace collapsed) or normalized URL was seen before; first seen wins",
		ExactConfig{Key: "text", URLRule: URLRuleC4},
		func(c *ExactConfig, env *flow.Env) (flow.Stage, error) {
			if err := c.Validate(); err != nil {
				return nil, err
			}
			return NewExactDedup(*c, env.Counters), nil
		})
}

// ExactDedup drops a document whose key (hash of normalized text or URL) an
// earlier document had. It keeps only 64-bit hashes in a Uint64Set: 10.7–16
// bytes per distinct document. Two different texts share a hash with
// probability about n²/2^65 (one in 3,700 for 100 M documents).
type ExactDedup struct {
	cfg      ExactConfig
	seen     *Uint64Set
	keyer    *textKeyer
	counters *flow.Counters
}

// NewExactDedup builds the stage; counters may be nil. Its PartitionKey
// follows the configured url_rule, so every rule splits by key over Kafka.
func NewExactDedup(cfg ExactConfig, counters *flow.Counters) *ExactDedup {
	if counters == nil {
		counters = &flow.Counters{}
	}
	return &ExactDedup{
		cfg:      cfg,
		seen:     NewUint64Set(cfg.ExpectedDocuments),
		keyer:    newTextKeyer(TextKeyOptions{StripPunctuation: cfg.StripPunctuation, DigitsToZero: cfg.DigitsToZero}),
		counters: counters,
	}
}

// Sequential: first seen in input order wins.
func (d *ExactDedup) Sequential() {}

// Process keeps the first document with a key and rejects the later ones.
func (d *ExactDedup) Process(r *flow.Record) string {
	var key uint64
	if d.cfg.Key == "url" {
		u, ok := d.normalizeURL(r.URL)
		if !ok {
			// Nothing to compare: keep it rather than call every
			// URL-less record a duplicate of the first.
			d.counters.Add("no_url", 1)
			return ""
		}
		key = xxhash.Sum64String(u)
	} else {
		key = d.keyer.key(r.Text)
	}
	if d.seen.Add(key) {
		return ""
	}
	if d.cfg.Key == "url" {
		return "duplicate_url"
	}
	return "duplicate_text"
}

// normalizeURL applies the configured URL rule.
func (d *ExactDedup) normalizeURL(raw string) (string, bool) {
	if d.cfg.URLRule == URLRuleParams {
		return NormalizeURLParams(raw)
	}
	return NormalizeURL(raw)
}

// IndexBytes is the memory held by the index.
func (d *ExactDedup) IndexBytes() int { return d.seen.Bytes() }

// Finish records the index size in the stage's counts.
func (d *ExactDedup) Finish(context.Context) error {
	d.counters.Add("index_bytes", int64(d.seen.Bytes()))
	d.counters.Add("index_keys", int64(d.seen.Len()))
	return nil
}
