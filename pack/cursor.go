package pack

import (
	"bytes"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
)

// shardCursor walks the rows of one shard held in memory.
type shardCursor struct {
	path   string
	file   string
	schema *arrow.Schema

	nextBatch func() (arrow.Record, error) // nil record at the end
	release   func()
	mem       *budgetAllocator

	batch arrow.Record
	cols  columnsOf
	row   int // within batch
	rowIn int // within the shard
}

// columnsOf are the known columns of a batch, nil where absent.
type columnsOf struct {
	id, docID                                *array.String
	inputIDs, tokenTypeIDs, labels, targets  listColumn
	length, targetsLength, nextSentenceLabel *array.Int32
	image                                    *array.Binary
	caption                                  *array.String
	width, height, itmLabel                  *array.Int32
}

// listColumn is a list<int32> or fixed_size_list<int32> column.
type listColumn interface {
	Len() int
	ValueOffsets(i int) (start, end int64)
	ListValues() arrow.Array
}

// newShardCursor opens a shard held in data; verified says its checksum
// matched its manifest's (budget.go).
func newShardCursor(data []byte, format, path, file string, verified bool) (c *shardCursor, err error) {
	// The Arrow reader trusts offsets in the file; a corrupt shard that
	// slipped past the checksum (SkipVerify) must give an error, not a crash.
	defer func() {
		if p := recover(); p != nil {
			c, err = nil, fmt.Errorf("%s: not a readable Arrow shard: %w", path, panicError(p))
		}
	}()
	if err := checkIPCStructure(data, format); err != nil {
		return nil, fmt.Errorf("%s: not a readable Arrow shard: %w", path, err)
	}
	mem := newDecodeAllocator(len(data), verified)
	c = &shardCursor{path: path, file: file, mem: mem}
	switch format {
	case FormatStream:
		rd, err := ipc.NewReader(bytes.NewReader(data), ipc.WithAllocator(mem))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c.schema = rd.Schema()
		c.nextBatch = func() (arrow.Record, error) {
			if rd.Next() {
				rec := rd.Record()
				rec.Retain()
				return rec, nil
			}
			return nil, rd.Err()
		}
		c.release = rd.Release
	default:
		fr, err := ipc.NewFileReader(bytes.NewReader(data), ipc.WithAllocator(mem))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c.schema = fr.Schema()
		i := 0
		c.nextBatch = func() (arrow.Record, error) {
			if i >= fr.NumRecords() {
				return nil, nil
			}
			rec, err := fr.RecordAt(i) // RecordAt's record is the caller's to release
			i++
			return rec, err
		}
		c.release = func() { fr.Close() }
	}
	return c, nil
}

// panicError is what the decoder panicked with as an error, keeping an
// error's type (the budget's errOverBudget) for errors.As.
func panicError(p any) error {
	if err, ok := p.(error); ok {
		return err
	}
	return fmt.Errorf("%v", p)
}

// next returns the next row; ok is false at the end of the shard.
func (c *shardCursor) next() (ex Example, ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			ex, ok, err = Example{}, false, fmt.Errorf("%s row %d: not a readable Arrow shard: %w", c.path, c.rowIn, panicError(p))
		}
	}()
	for c.batch == nil || c.row >= int(c.batch.NumRows()) {
		if c.batch != nil {
			c.batch.Release()
			c.batch = nil
		}
		rec, err := c.nextBatch()
		if err != nil {
			if refused := c.mem.refusal(); refused != nil {
				err = refused // the stream reader's error lost its type
			}
			return Example{}, false, fmt.Errorf("%s: %w", c.path, err)
		}
		if rec == nil {
			c.close()
			return Example{}, false, nil
		}
		cols, err := columnsIn(rec)
		if err != nil {
			rec.Release()
			return Example{}, false, fmt.Errorf("%s: %w", c.path, err)
		}
		c.batch, c.cols, c.row = rec, cols, 0
	}
	ex, err = c.cols.example(c.row)
	if err != nil {
		return Example{}, false, fmt.Errorf("%s row %d: %w", c.path, c.rowIn, err)
	}
	ex.Position = Position{Row: c.rowIn}
	ex.Shard = c.file
	c.row++
	c.rowIn++
	return ex, true, nil
}

// skip moves past the first n rows of the shard.
func (c *shardCursor) skip(n int) error {
	for c.rowIn < n {
		if _, ok, err := c.next(); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%s has only %d rows, cannot start at row %d", c.path, c.rowIn, n)
		}
	}
	return nil
}

func (c *shardCursor) close() {
	if c.batch != nil {
		c.batch.Release()
		c.batch = nil
	}
	if c.release != nil {
		c.release()
		c.release = nil
	}
}

func columnsIn(rec arrow.Record) (columnsOf, error) {
	var cols columnsOf
	for i, f := range rec.Schema().Fields() {
		col := rec.Column(i)
		if int64(col.Len()) != rec.NumRows() {
			return cols, fmt.Errorf("column %q has %d rows, its batch %d", f.Name, col.Len(), rec.NumRows())
		}
		var err error
		switch f.Name {
		case ColID:
			cols.id, err = asString(f.Name, col)
		case ColDocID:
			cols.docID, err = asString(f.Name, col)
		case ColInputIDs:
			cols.inputIDs, err = asInt32List(f.Name, col)
		case ColTokenTypeIDs:
			cols.tokenTypeIDs, err = asInt32List(f.Name, col)
		case ColLabels:
			cols.labels, err = asInt32List(f.Name, col)
		case ColTargets:
			cols.targets, err = asInt32List(f.Name, col)
		case ColLength:
			cols.length, err = asInt32(f.Name, col)
		case ColTargetsLength:
			cols.targetsLength, err = asInt32(f.Name, col)
		case ColNextSentenceLabel:
			cols.nextSentenceLabel, err = asInt32(f.Name, col)
		case ColImage:
			var ok bool
			if cols.image, ok = col.(*array.Binary); !ok {
				err = fmt.Errorf("column %q is %s, want binary", f.Name, col.DataType())
			}
		case ColCaption:
			cols.caption, err = asString(f.Name, col)
		case ColWidth:
			cols.width, err = asInt32(f.Name, col)
		case ColHeight:
			cols.height, err = asInt32(f.Name, col)
		case ColITMLabel:
			cols.itmLabel, err = asInt32(f.Name, col)
		}
		if err != nil {
			return cols, err
		}
	}
	if cols.id == nil {
		// Every corpusflow layout has it. Reading it also bounds the work on
		// a damaged batch: its offsets must cover every row the batch
		// claims, where a batch of unknown columns could claim billions of
		// rows that cost nothing to iterate.
		return cols, fmt.Errorf("no %q column: not a corpusflow shard", ColID)
	}
	return cols, nil
}

func asString(name string, a arrow.Array) (*array.String, error) {
	s, ok := a.(*array.String)
	if !ok {
		return nil, fmt.Errorf("column %q is %s, want utf8", name, a.DataType())
	}
	return s, nil
}

func asInt32(name string, a arrow.Array) (*array.Int32, error) {
	s, ok := a.(*array.Int32)
	if !ok {
		return nil, fmt.Errorf("column %q is %s, want int32", name, a.DataType())
	}
	return s, nil
}

func asInt32List(name string, a arrow.Array) (listColumn, error) {
	l, ok := a.(listColumn)
	if !ok {
		return nil, fmt.Errorf("column %q is %s, want a list of int32", name, a.DataType())
	}
	if _, ok := l.ListValues().(*array.Int32); !ok {
		return nil, fmt.Errorf("column %q is %s, want a list of int32", name, a.DataType())
	}
	return l, nil
}

func (cols *columnsOf) example(row int) (Example, error) {
	var ex Example
	var err error
	if cols.id != nil {
		ex.ID = cols.id.Value(row)
	}
	if cols.docID != nil {
		ex.DocID = cols.docID.Value(row)
	}
	if ex.InputIDs, err = listAt(cols.inputIDs, row); err != nil {
		return ex, err
	}
	if ex.TokenTypeIDs, err = listAt(cols.tokenTypeIDs, row); err != nil {
		return ex, err
	}
	if ex.Labels, err = listAt(cols.labels, row); err != nil {
		return ex, err
	}
	if ex.Targets, err = listAt(cols.targets, row); err != nil {
		return ex, err
	}
	if cols.length != nil {
		ex.Length = int(cols.length.Value(row))
	}
	if cols.targetsLength != nil {
		ex.TargetsLength = int(cols.targetsLength.Value(row))
	}
	if cols.nextSentenceLabel != nil {
		ex.NextSentenceLabel = int(cols.nextSentenceLabel.Value(row))
	}
	if cols.image != nil {
		ex.Image = append([]byte(nil), cols.image.Value(row)...) // outlives the batch
	}
	if cols.caption != nil {
		ex.Caption = cols.caption.Value(row)
	}
	if cols.width != nil {
		ex.Width = int(cols.width.Value(row))
	}
	if cols.height != nil {
		ex.Height = int(cols.height.Value(row))
	}
	if cols.itmLabel != nil {
		ex.ITMLabel = int(cols.itmLabel.Value(row))
	}
	return ex, nil
}

// listAt copies row's values out of a list column, so the example outlives
// the batch.
func listAt(l listColumn, row int) ([]int32, error) {
	if l == nil {
		return nil, nil
	}
	start, end := l.ValueOffsets(row)
	values := l.ListValues().(*array.Int32).Int32Values()
	if start < 0 || end < start || end > int64(len(values)) {
		return nil, fmt.Errorf("list offsets [%d, %d) outside the %d values", start, end, len(values))
	}
	return append([]int32(nil), values[start:end]...), nil
}
