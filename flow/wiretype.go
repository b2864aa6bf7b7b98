package flow

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
)

// Values of a package's own types in records.
//
// Record.Meta and Record.Fields usually hold plain data (numbers, strings,
// slices, maps), which a transport between processes carries as it is. A
// package that puts a value of its own type there (pack attaches one shared
// *Layout to every example) registers the type, so that a transport can
// carry the value as JSON and rebuild a value of the same type on the other
// side. A registered value must not change once it is in a record: a
// transport may encode it once and reuse the bytes.

var wireTypes = struct {
	sync.RWMutex
	byName map[string]reflect.Type
	byType map[reflect.Type]string
}{byName: map[string]reflect.Type{}, byType: map[reflect.Type]string{}}

// RegisterWireType registers T (often a pointer to a struct) under name,
// which must be unique and stable across versions of the binary.
func RegisterWireType[T any](name string) {
	t := reflect.TypeFor[T]()
	wireTypes.Lock()
	defer wireTypes.Unlock()
	if _, dup := wireTypes.byName[name]; dup {
		panic(fmt.Sprintf("flow: wire type %q registered twice", name))
	}
	wireTypes.byName[name] = t
	wireTypes.byType[t] = name
}

// WireTypeOf returns the registered name of v's type.
func WireTypeOf(v any) (string, bool) {
	wireTypes.RLock()
	defer wireTypes.RUnlock()
	name, ok := wireTypes.byType[reflect.TypeOf(v)]
	return name, ok
}

// DecodeWireValue rebuilds a value of the type registered as name from its
// JSON encoding.
func DecodeWireValue(name string, data []byte) (any, error) {
	wireTypes.RLock()
	t, ok := wireTypes.byName[name]
	wireTypes.RUnlock()
	if !ok {
		return nil, fmt.Errorf("no type is registered as %q (is the package that makes it linked into this binary?)", name)
	}
	p := reflect.New(t)
	if err := json.Unmarshal(data, p.Interface()); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p.Elem().Interface(), nil
}
