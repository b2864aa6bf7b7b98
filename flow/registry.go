package flow

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// Kind says what a registered component is.
type Kind string

// The kinds of components a pipeline is made of.
const (
	KindSource Kind = "source"
	KindStage  Kind = "stage"
	KindSink   Kind = "sink"
)

// Component is a source, stage or sink that a pipeline can name.
//
// Its configuration is a Go struct whose exported fields are its YAML
// parameters. Struct tags say the rest:
//
//	yaml:"name"          the parameter's YAML key (required on every field)
//	help:"..."           one line for `corpusflow stages` and the docs
//	required:"true"      the parameter must be given
//	choices:"a,b,c"      the only values allowed (strings)
//	path:"input"         an input file, glob or directory that must exist,
//	                     relative to the pipeline file's directory
//	path:"output"        an output file, relative to the run's output dir;
//	                     two components may not write the same one
//	reads:"true"         with path:"output": the component only reads that
//	                     path (another component's output), it writes nothing
//
// A configuration may also implement Validate() error, returning *FieldError
// to point at the parameter at fault.
type Component struct {
	Kind    Kind
	Name    string
	Summary string

	defaults reflect.Value // a struct value
	build    func(cfg any, env *Env) (any, error)
}

// FieldError is a configuration error about one parameter. Field is the YAML
// key, with ".index" or ".key" for nested values ("test_sets.1.path").
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// NewConfig returns a pointer to a fresh configuration holding the defaults.
func (c *Component) NewConfig() any {
	p := reflect.New(c.defaults.Type())
	p.Elem().Set(c.defaults)
	return p.Interface()
}

// ConfigType is the configuration struct's type.
func (c *Component) ConfigType() reflect.Type { return c.defaults.Type() }

// Build makes the component from a configuration returned by NewConfig.
func (c *Component) Build(cfg any, env *Env) (any, error) { return c.build(cfg, env) }

// Param describes one parameter, for listings and documentation.
type Param struct {
	Name     string
	Type     string
	Default  string
	Help     string
	Required bool
	Choices  []string
	Path     string // "input", "output" or ""
}

// Params lists the component's parameters in declaration order.
func (c *Component) Params() []Param { return paramsOf(c.defaults) }

func paramsOf(v reflect.Value) []Param {
	var ps []Param
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key := YAMLKey(f)
		p := Param{
			Name:     key,
			Type:     typeName(f.Type),
			Help:     f.Tag.Get("help"),
			Required: f.Tag.Get("required") == "true",
			Path:     f.Tag.Get("path"),
		}
		if ch := f.Tag.Get("choices"); ch != "" {
			p.Choices = strings.Split(ch, ",")
		}
		if !p.Required {
			p.Default = formatDefault(v.Field(i))
		}
		ps = append(ps, p)
		// Lists of structs (test_sets) document their fields too.
		switch {
		case f.Type.Kind() == reflect.Struct:
			for _, sub := range paramsOf(v.Field(i)) {
				sub.Name = key + "." + sub.Name
				ps = append(ps, sub)
			}
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			for _, sub := range paramsOf(reflect.New(f.Type.Elem()).Elem()) {
				sub.Name = key + "[]." + sub.Name
				ps = append(ps, sub)
			}
		}
	}
	return ps
}

// YAMLKey is the YAML key of a configuration field.
func YAMLKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Slice:
		return "list of " + typeName(t.Elem())
	case reflect.Map:
		return "map of " + typeName(t.Key()) + " to " + typeName(t.Elem())
	case reflect.Struct:
		return "object"
	case reflect.Pointer:
		return typeName(t.Elem())
	}
	return t.String()
}

func formatDefault(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		if v.String() == "" {
			return `""`
		}
		return v.String()
	case reflect.Slice:
		if v.Len() == 0 {
			return "[]"
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatDefault(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		if v.Len() == 0 {
			return "{}"
		}
	case reflect.Struct:
		return "{...}"
	}
	return fmt.Sprint(v.Interface())
}

var registry = struct {
	sync.RWMutex
	byKind map[Kind]map[string]*Component
}{byKind: map[Kind]map[string]*Component{}}

func register[C any, T any](kind Kind, name, summary string, defaults C, build func(*C, *Env) (T, error)) {
	dv := reflect.ValueOf(defaults)
	if dv.Kind() != reflect.Struct {
		panic(fmt.Sprintf("flow: %s %q: configuration must be a struct, got %T", kind, name, defaults))
	}
	c := &Component{
		Kind: kind, Name: name, Summary: summary, defaults: dv,
		build: func(cfg any, env *Env) (any, error) { return build(cfg.(*C), env) },
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.byKind[kind] == nil {
		registry.byKind[kind] = map[string]*Component{}
	}
	if _, dup := registry.byKind[kind][name]; dup {
		panic(fmt.Sprintf("flow: %s %q registered twice", kind, name))
	}
	registry.byKind[kind][name] = c
}

// RegisterStage makes a stage available to pipelines as `use: name`. defaults
// is its configuration with every default filled in; build turns a
// configuration into the stage. Call it from an init function in the file
// that implements the stage.
func RegisterStage[C any](name, summary string, defaults C, build func(*C, *Env) (Stage, error)) {
	register(KindStage, name, summary, defaults, build)
}

// RegisterSource makes a source available to pipelines as `type: name`.
func RegisterSource[C any](name, summary string, defaults C, build func(*C, *Env) (Source, error)) {
	register(KindSource, name, summary, defaults, build)
}

// RegisterSink makes a sink available to pipelines as `type: name`.
func RegisterSink[C any](name, summary string, defaults C, build func(*C, *Env) (Sink, error)) {
	register(KindSink, name, summary, defaults, build)
}

// Lookup finds a registered component.
func Lookup(kind Kind, name string) (*Component, bool) {
	registry.RLock()
	defer registry.RUnlock()
	c, ok := registry.byKind[kind][name]
	return c, ok
}

// Names lists the registered names of a kind, sorted.
func Names(kind Kind) []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.byKind[kind]))
	for n := range registry.byKind[kind] {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Components lists the registered components of a kind, sorted by name.
func Components(kind Kind) []*Component {
	var cs []*Component
	for _, n := range Names(kind) {
		c, _ := Lookup(kind, n)
		cs = append(cs, c)
	}
	return cs
}

// More kinds: top-level pipeline sections owned by a package (the trainer's
// `train:`) and transports between stages (`transport:`).
const (
	KindSection   Kind = "section"
	KindTransport Kind = "transport"
)

// RegisterSection makes a top-level pipeline section (such as `train:`)
// available; the parser decodes it into a copy of defaults and validates it
// like any component configuration. The owner reads it back with
// pipelines.Pipeline.Sections[name].
func RegisterSection[C any](name, summary string, defaults C) {
	register(KindSection, name, summary, defaults, func(c *C, env *Env) (*C, error) { return c, nil })
}

// RegisterTransport makes `transport: {type: name, ...}` available.
func RegisterTransport[C any](name, summary string, defaults C, build func(*C, *Env) (Transport, error)) {
	register(KindTransport, name, summary, defaults, build)
}
