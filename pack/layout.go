package pack

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/corpusflow/corpusflow/flow"
)

// Column names. Packed example records carry their columns in
// flow.Record.Fields under these names; the record's ID is the "id" column.
const (
	ColID                = "id"                  // utf8: the example's id
	ColDocID             = "doc_id"              // utf8: the id of its first source document (provenance)
	ColInputIDs          = "input_ids"           // list<int32>: token ids fed to the model
	ColTokenTypeIDs      = "token_type_ids"      // list<int32>: segment A = 0, B = 1 (nsp)
	ColLength            = "length"              // int32: tokens of input_ids that are not padding
	ColLabels            = "labels"              // list<int32>: original id at masked positions, -100 elsewhere (static_mask)
	ColNextSentenceLabel = "next_sentence_label" // int32: 0 = B follows A, 1 = B is random (nsp)
	ColTargets           = "targets"             // list<int32>: T5 targets (span_corruption)
	ColTargetsLength     = "targets_length"      // int32: tokens of targets that are not padding
)

// IgnoreLabel marks positions that take no part in the masked-LM loss, as in
// PyTorch's cross-entropy ignore_index and Hugging Face's collators.
const IgnoreLabel int32 = -100

// ColumnKind is the type of a column.
type ColumnKind int

// The column types a layout can hold.
const (
	KindString ColumnKind = iota
	KindInt32
	KindInt32List
	KindBinary // encoded bytes (images)
)

// Column is one column of a shard.
type Column struct {
	Name string
	Kind ColumnKind
	// Width is the fixed number of values per row of an Int32List column
	// (written as fixed_size_list), or 0 for variable-length lists.
	Width int
}

// Layout describes the examples a pack stage makes: their columns and the
// metadata that travels with every shard. The arrow sink writes records
// according to the Layout attached to them (AttachLayout); records without
// one are written with DocumentLayout.
type Layout struct {
	Columns  []Column
	Metadata map[string]string
}

// Metadata keys of the Arrow schema. A consumer compares
// MetaVocabSHA256 with its own vocabulary before it trains on a shard.
const (
	MetaVersion        = "corpusflow.version"
	MetaMode           = "corpusflow.mode"
	MetaSeqLen         = "corpusflow.seq_len"
	MetaTokenizer      = "corpusflow.tokenizer"
	MetaVocabSHA256    = "corpusflow.vocab_sha256"
	MetaVocabSize      = "corpusflow.vocab_size"
	MetaVocabFile      = "corpusflow.vocab_file"
	MetaSpecialTokens  = "corpusflow.special_tokens"
	MetaPackConfig     = "corpusflow.pack"
	MetaPipeline       = "corpusflow.pipeline"
	MetaPipelineSHA256 = "corpusflow.pipeline_sha256"
	// MetaHuggingFace holds the Hugging Face datasets features, so
	// datasets.Dataset.from_file loads the columns with the right types.
	MetaHuggingFace = "huggingface"
)

// layoutField is the key under which a record's Fields carry its layout.
const layoutField = "_layout"

// AttachLayout makes l the layout of r. Every record a pack stage emits
// shares one *Layout, so this costs a map entry, not a copy.
func AttachLayout(r *flow.Record, l *Layout) {
	if r.Fields == nil {
		r.Fields = make(map[string]any, 8)
	}
	r.Fields[layoutField] = l
}

// LayoutOf returns the layout attached to a record's fields, or nil.
func LayoutOf(fields map[string]any) *Layout {
	l, _ := fields[layoutField].(*Layout)
	return l
}

// DocumentLayout is the layout for records that were not packed: documents,
// with their token ids when a tokenize stage ran.
func DocumentLayout(withTokens bool) *Layout {
	l := &Layout{Columns: []Column{
		{Name: ColID, Kind: KindString},
		{Name: "source", Kind: KindString},
		{Name: "url", Kind: KindString},
		{Name: "timestamp", Kind: KindString},
		{Name: "text", Kind: KindString},
	}, Metadata: map[string]string{MetaMode: "documents"}}
	if withTokens {
		l.Columns = append(l.Columns, Column{Name: ColInputIDs, Kind: KindInt32List})
	}
	return l
}

// Column returns the column called name.
func (l *Layout) Column(name string) (Column, bool) {
	for _, c := range l.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// ArrowType is the Arrow type of a column.
func (c Column) ArrowType() arrow.DataType {
	switch c.Kind {
	case KindString:
		return arrow.BinaryTypes.String
	case KindInt32:
		return arrow.PrimitiveTypes.Int32
	case KindBinary:
		return arrow.BinaryTypes.Binary
	}
	// Items keep Arrow's default (nullable) type: it is what pyarrow and
	// datasets produce for list<int32>, and Go's builders do not keep a
	// non-nullable item type.
	if c.Width > 0 {
		return arrow.FixedSizeListOf(int32(c.Width), arrow.PrimitiveTypes.Int32)
	}
	return arrow.ListOf(arrow.PrimitiveTypes.Int32)
}

// Schema is the Arrow schema of the layout, with its metadata and the
// Hugging Face features.
func (l *Layout) Schema() *arrow.Schema {
	fields := make([]arrow.Field, len(l.Columns))
	for i, c := range l.Columns {
		// Columns are never null, but Hugging Face datasets uses the
		// "huggingface" features only when they produce exactly the file's
		// fields, and the fields it produces are nullable.
		fields[i] = arrow.Field{Name: c.Name, Type: c.ArrowType(), Nullable: true}
	}
	md := make(map[string]string, len(l.Metadata)+1)
	for k, v := range l.Metadata {
		md[k] = v
	}
	md[MetaHuggingFace] = l.huggingFaceFeatures()
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys) // Arrow keeps metadata in order: sorted keys make it deterministic
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = md[k]
	}
	meta := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(fields, &meta)
}

// huggingFaceFeatures is the JSON that Hugging Face datasets reads from the
// "huggingface" schema metadata: {"info": {"features": {...}}}. Without it
// datasets infers the types from Arrow, which works too, but a fixed-size
// list would lose its length.
func (l *Layout) huggingFaceFeatures() string {
	type value struct {
		Dtype string `json:"dtype"`
		Type  string `json:"_type"`
	}
	type sequence struct {
		Feature value  `json:"feature"`
		Length  int    `json:"length"`
		Type    string `json:"_type"`
	}
	features := make(map[string]any, len(l.Columns))
	for _, c := range l.Columns {
		switch c.Kind {
		case KindString:
			features[c.Name] = value{Dtype: "string", Type: "Value"}
		case KindInt32:
			features[c.Name] = value{Dtype: "int32", Type: "Value"}
		case KindBinary:
			features[c.Name] = value{Dtype: "binary", Type: "Value"}
		case KindInt32List:
			length := -1
			if c.Width > 0 {
				length = c.Width
			}
			features[c.Name] = sequence{Feature: value{Dtype: "int32", Type: "Value"}, Length: length, Type: "Sequence"}
		}
	}
	data, err := json.Marshal(map[string]any{"info": map[string]any{"features": features}})
	if err != nil {
		panic(fmt.Sprintf("pack: features of %v do not marshal: %v", l.Columns, err)) // plain structs: cannot happen
	}
	return string(data)
}

// SchemaJSON is the schema as manifest.json describes it.
type SchemaJSON struct {
	Fields   []FieldJSON       `json:"fields"`
	Metadata map[string]string `json:"metadata"`
}

// FieldJSON is one column in manifest.json.
type FieldJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// JSON describes the layout's schema for the manifest.
func (l *Layout) JSON() SchemaJSON {
	s := SchemaJSON{Metadata: map[string]string{}}
	for _, c := range l.Columns {
		s.Fields = append(s.Fields, FieldJSON{Name: c.Name, Type: c.ArrowType().String()})
	}
	for k, v := range l.Metadata {
		s.Metadata[k] = v
	}
	return s
}

// metaInt reads an integer metadata value; ok is false when it is absent or
// not a number.
func metaInt(md map[string]string, key string) (int, bool) {
	n, err := strconv.Atoi(md[key])
	return n, err == nil
}
