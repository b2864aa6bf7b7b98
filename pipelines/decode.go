package pipelines

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/corpusflow/corpusflow/flow"
)

// The top-level keys every pipeline may have; registered sections add more.
var fixedTopLevelKeys = []string{"name", "description", "output", "workers", "sources", "stages", "sinks", "rejects", "transport"}

func topLevelKeys() []string {
	return append(append([]string(nil), fixedTopLevelKeys...), flow.Names(flow.KindSection)...)
}

type decoder struct {
	problems *problemList
	base     string
}

func keyOf(kv *ast.MappingValueNode) string {
	if kv.Key == nil || kv.Key.GetToken() == nil {
		return ""
	}
	return kv.Key.GetToken().Value
}

func isNull(n ast.Node) bool {
	return n == nil || n.Type() == ast.NullType
}

func (d *decoder) pipeline(p *Pipeline, root *ast.MappingNode) {
	seen := map[string]*ast.MappingValueNode{}
	for _, kv := range root.Values {
		key := keyOf(kv)
		if prev, dup := seen[key]; dup {
			d.problems.atNode(kv.Key, "%q is given twice (first at line %d)", key, prev.Key.GetToken().Position.Line)
			continue
		}
		seen[key] = kv
		switch key {
		case "name":
			d.scalar(kv, &p.Name)
		case "description":
			d.scalar(kv, &p.Description)
		case "output":
			if d.scalar(kv, &p.Output) && p.Output != "" && !filepath.IsAbs(p.Output) {
				p.Output = filepath.Join(d.base, p.Output)
			}
		case "workers":
			if d.scalar(kv, &p.Workers) && p.Workers < 0 {
				d.problems.atNode(kv.Value, "workers must be 0 (all cores) or more, got %d", p.Workers)
			}
		case "sources":
			p.Sources = d.components(flow.KindSource, "type", kv)
		case "stages":
			p.Stages = d.components(flow.KindStage, "use", kv)
		case "sinks":
			p.Sinks = d.components(flow.KindSink, "type", kv)
		case "rejects":
			m, ok := d.mapping(kv, "rejects")
			if ok {
				rc := &RejectsConfig{Text: true}
				d.fields(reflect.ValueOf(rc).Elem(), m, "rejects", nil)
				p.Rejects = rc
			}
		case "transport":
			if cs := d.components(flow.KindTransport, "type", &ast.MappingValueNode{Key: kv.Key, Value: asSequence(kv.Value)}); len(cs) == 1 {
				p.Transport = cs[0]
			}
		default:
			spec, ok := flow.Lookup(flow.KindSection, key)
			if !ok {
				d.problems.atNode(kv.Key, "%s", unknownName("top-level key", key, topLevelKeys()))
				continue
			}
			if m, ok := d.mapping(kv, key); ok {
				cfg := spec.NewConfig()
				d.fields(reflect.ValueOf(cfg).Elem(), m, key, nil)
				p.Sections[key] = cfg
			}
		}
	}
	if p.Name == "" {
		d.problems.atNode(root, "missing required key \"name\"")
	}
	if len(p.Sources) == 0 && seen["sources"] == nil {
		d.problems.atNode(root, "missing required key \"sources\" (a list of inputs, each with a type: %s)", choices(flow.Names(flow.KindSource)))
	}
}

// asSequence wraps a single mapping in a one-element list, so `transport:`
// (one component) reuses the list decoder.
func asSequence(n ast.Node) ast.Node {
	if m, ok := n.(*ast.MappingNode); ok {
		return &ast.SequenceNode{BaseNode: &ast.BaseNode{}, Start: m.GetToken(), Values: []ast.Node{m}}
	}
	return n
}

// scalar decodes a scalar value into dst, reporting a type problem.
func (d *decoder) scalar(kv *ast.MappingValueNode, dst any) bool {
	if isNull(kv.Value) {
		d.problems.atNode(kv.Key, "%q has no value", keyOf(kv))
		return false
	}
	if err := yaml.NodeToValue(kv.Value, dst, yaml.Strict()); err != nil {
		d.problems.atNode(kv.Value, "%s: expected %s, got %s", keyOf(kv), typeName(reflect.TypeOf(dst).Elem()), describe(kv.Value))
		return false
	}
	return true
}

func (d *decoder) mapping(kv *ast.MappingValueNode, what string) (*ast.MappingNode, bool) {
	m, ok := kv.Value.(*ast.MappingNode)
	if !ok {
		d.problems.atNode(kv.Value, "%s must be a mapping of parameters, got %s", what, describe(kv.Value))
	}
	return m, ok
}

// components decodes a list of sources, stages or sinks.
func (d *decoder) components(kind flow.Kind, nameKey string, kv *ast.MappingValueNode) []*Component {
	seq, ok := kv.Value.(*ast.SequenceNode)
	if !ok {
		d.problems.atNode(kv.Value, "%s must be a list, got %s", keyOf(kv), describe(kv.Value))
		return nil
	}
	valid := flow.Names(kind)
	var out []*Component
	names := map[string]int{}
	for _, item := range seq.Values {
		m, ok := item.(*ast.MappingNode)
		if !ok {
			d.problems.atNode(item, "each %s must be a mapping with %q (one of %s), got %s", kind, nameKey, choices(valid), describe(item))
			continue
		}
		c := &Component{Kind: kind, node: m}
		if pos := m.GetToken().Position; pos != nil {
			c.Line, c.Column = pos.Line, pos.Column
		}
		if len(m.Values) > 0 {
			if pos := m.Values[0].Key.GetToken().Position; pos != nil {
				c.Line, c.Column = pos.Line, pos.Column
			}
		}
		var useNode ast.Node
		for _, f := range m.Values {
			switch keyOf(f) {
			case nameKey:
				useNode = f.Value
				_ = yaml.NodeToValue(f.Value, &c.Use)
			case "name":
				_ = yaml.NodeToValue(f.Value, &c.Name)
			}
		}
		if useNode == nil {
			d.problems.atNode(m, "%s is missing %q; valid: %s", kind, nameKey, choices(valid))
			continue
		}
		spec, ok := flow.Lookup(kind, c.Use)
		if !ok {
			d.problems.atNode(useNode, "%s", unknownName(string(kind), c.Use, valid))
			continue
		}
		c.spec = spec
		if c.Name == "" {
			c.Name = c.Use
		}
		names[c.Name]++
		if n := names[c.Name]; n > 1 {
			c.Name = fmt.Sprintf("%s_%d", c.Name, n)
		}
		c.Config = spec.NewConfig()
		d.fields(reflect.ValueOf(c.Config).Elem(), m, fmt.Sprintf("%s %s", kind, c.Use), []string{nameKey, "name"})
		out = append(out, c)
	}
	return out
}

// fields decodes the keys of m into the struct v, checking unknown keys,
// types, choices, required keys and input paths, then calls Validate.
func (d *decoder) fields(v reflect.Value, m *ast.MappingNode, what string, reserved []string) {
	t := v.Type()
	byKey := map[string]int{}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if !t.Field(i).IsExported() {
			continue
		}
		k := flow.YAMLKey(t.Field(i))
		byKey[k] = i
		keys = append(keys, k)
	}
	given := map[string]ast.Node{}
	for _, kv := range m.Values {
		key := keyOf(kv)
		if contains(reserved, key) {
			continue
		}
		i, ok := byKey[key]
		if !ok {
			d.problems.atNode(kv.Key, "%s", unknownName("parameter for "+what, key, keys))
			continue
		}
		if _, dup := given[key]; dup {
			d.problems.atNode(kv.Key, "%q is given twice", key)
			continue
		}
		given[key] = kv.Value
		d.value(v.Field(i), t.Field(i), kv, what)
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.IsExported() && f.Tag.Get("required") == "true" {
			if _, ok := given[flow.YAMLKey(f)]; !ok {
				d.problems.atNode(m, "%s: missing required parameter %q (%s)", what, flow.YAMLKey(f), f.Tag.Get("help"))
			}
		}
	}
	if val, ok := v.Addr().Interface().(interface{ Validate() error }); ok {
		if err := val.Validate(); err != nil {
			var fe *flow.FieldError
			if errors.As(err, &fe) {
				d.problems.atNode(nodeAt(m, fe.Field), "%s: %s", what, fe.Error())
			} else {
				d.problems.atNode(m, "%s: %v", what, err)
			}
		}
	}
}

// value decodes one parameter.
func (d *decoder) value(fv reflect.Value, f reflect.StructField, kv *ast.MappingValueNode, what string) {
	key := flow.YAMLKey(f)
	if isNull(kv.Value) {
		d.problems.atNode(kv.Key, "%s: %q has no value (expected %s)", what, key, typeName(f.Type))
		return
	}
	// Structs and lists of structs are decoded field by field, so their keys
	// get the same checks and messages as top-level parameters.
	switch {
	case f.Type.Kind() == reflect.Struct:
		if m, ok := kv.Value.(*ast.MappingNode); ok {
			d.fields(fv, m, what+" "+key, nil)
		} else {
			d.problems.atNode(kv.Value, "%s: %s must be a mapping, got %s", what, key, describe(kv.Value))
		}
		return
	case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
		seq, ok := kv.Value.(*ast.SequenceNode)
		if !ok {
			d.problems.atNode(kv.Value, "%s: %s must be a list, got %s", what, key, describe(kv.Value))
			return
		}
		list := reflect.MakeSlice(f.Type, len(seq.Values), len(seq.Values))
		for i, item := range seq.Values {
			m, ok := item.(*ast.MappingNode)
			if !ok {
				d.problems.atNode(item, "%s: each %s entry must be a mapping, got %s", what, key, describe(item))
				continue
			}
			elem := list.Index(i)
			elem.Set(reflect.New(f.Type.Elem()).Elem())
			d.fields(elem, m, fmt.Sprintf("%s %s[%d]", what, key, i), nil)
		}
		fv.Set(list)
		return
	}
	ptr := reflect.New(f.Type)
	if err := yaml.NodeToValue(kv.Value, ptr.Interface(), yaml.Strict()); err != nil {
		d.problems.atNode(kv.Value, "%s: %s: expected %s, got %s", what, key, typeName(f.Type), describe(kv.Value))
		return
	}
	fv.Set(ptr.Elem())
	if ch := f.Tag.Get("choices"); ch != "" {
		valid := strings.Split(ch, ",")
		for _, s := range stringsOf(fv) {
			if !contains(valid, s) {
				d.problems.atNode(kv.Value, "%s: %s", what, unknownName(key+" value", s, valid))
			}
		}
	}
	if f.Tag.Get("path") == "input" {
		d.inputPaths(fv, kv.Value, what, key)
	}
}

// inputPaths resolves input paths against the pipeline's directory and checks
// they exist, so a typo fails before the run starts, not an hour into it.
func (d *decoder) inputPaths(fv reflect.Value, n ast.Node, what, key string) {
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) || strings.Contains(p, "://") {
			return p
		}
		return filepath.Join(d.base, p)
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(resolve(fv.String()))
		if err := checkInput(fv.String()); err != nil {
			d.problems.atNode(n, "%s: %s: %v", what, key, err)
		}
	case reflect.Slice:
		for i := 0; i < fv.Len(); i++ {
			e := fv.Index(i)
			e.SetString(resolve(e.String()))
			if err := checkInput(e.String()); err != nil {
				d.problems.atNode(n, "%s: %s: %v", what, key, err)
			}
		}
	}
}

// checkInput reports a missing or unreadable file, directory or glob.
func checkInput(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if strings.Contains(p, "://") {
		return nil // URLs are checked by the component that fetches them
	}
	if strings.ContainsAny(p, "*?[") {
		if i := strings.Index(p, "**"); i >= 0 {
			root := filepath.Dir(p[:i] + "x")
			if _, err := os.Stat(root); err != nil {
				return fmt.Errorf("%q: directory %s does not exist", p, root)
			}
			return nil
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			return fmt.Errorf("%q: bad pattern: %v", p, err)
		}
		if len(matches) == 0 {
			return fmt.Errorf("%q matches no file", p)
		}
		return nil
	}
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%q does not exist", p)
		}
		return err
	}
	if st.Mode().IsRegular() {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("%q cannot be read: %v", p, err)
		}
		f.Close()
	}
	return nil
}

// nodeAt finds the value node for a dotted field path ("test_sets.1.path")
// under m, or the deepest node found on the way.
func nodeAt(m *ast.MappingNode, path string) ast.Node {
	var cur ast.Node = m
	for _, part := range strings.Split(path, ".") {
		switch n := cur.(type) {
		case *ast.MappingNode:
			found := false
			for _, kv := range n.Values {
				if keyOf(kv) == part {
					cur, found = kv.Value, true
					break
				}
			}
			if !found {
				return cur
			}
		case *ast.SequenceNode:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(n.Values) {
				return cur
			}
			cur = n.Values[i]
		default:
			return cur
		}
	}
	return cur
}

func stringsOf(v reflect.Value) []string {
	switch v.Kind() {
	case reflect.String:
		return []string{v.String()}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			out := make([]string, v.Len())
			for i := range out {
				out[i] = v.Index(i).String()
			}
			return out
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// describe names what a node is, for type errors: `a string "five"`.
func describe(n ast.Node) string {
	switch n.Type() {
	case ast.StringType:
		return fmt.Sprintf("string %q", n.GetToken().Value)
	case ast.IntegerType:
		return "integer " + n.GetToken().Value
	case ast.FloatType:
		return "number " + n.GetToken().Value
	case ast.BoolType:
		return "boolean " + n.GetToken().Value
	case ast.NullType:
		return "nothing"
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	}
	return n.Type().String()
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(typeName(t.Elem()), "a "), "an ") + "s"
	case reflect.Map:
		return "a mapping"
	}
	return t.String()
}
