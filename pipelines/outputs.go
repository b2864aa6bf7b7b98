package pipelines

import (
	"path/filepath"
	"reflect"
	"strings"
)

// checkOutputClashes reports two components that write the same output
// path (a `path:"output"` parameter): decontaminate's and image_dedup's
// reports both in audit/, or two arrow sinks in one directory, would
// overwrite each other's files without a word. Paths are compared as
// written, relative ones under the same output directory.
func checkOutputClashes(p *Pipeline, problems *problemList) {
	type writer struct {
		c   *Component
		key string
	}
	writers := map[string]writer{}
	var components []*Component
	components = append(components, p.Stages...)
	components = append(components, p.Sinks...)
	for _, c := range components {
		if c.Config == nil {
			continue
		}
		v := reflect.ValueOf(c.Config)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			continue
		}
		outputPaths(v.Elem(), func(key, path string) {
			path = filepath.Clean(path)
			if w, ok := writers[path]; ok {
				problems.atComponent(c, "%s %s writes its %s to %s, where %s %s writes its %s; give one of them another path",
					c.Kind, c.Name, key, path, w.c.Kind, w.c.Name, w.key)
				return
			}
			writers[path] = writer{c, key}
		})
	}
}

// outputPaths calls seen with the YAML key and value of every set
// `path:"output"` parameter the component writes (not those tagged
// reads:"true", such as the kafka sink's shard directory to announce).
func outputPaths(v reflect.Value, seen func(key, path string)) {
	eachOutputField(v, func(f reflect.StructField, fv reflect.Value) {
		if fv.String() != "" && f.Tag.Get("reads") != "true" {
			seen(yamlKey(f), fv.String())
		}
	})
}

// eachOutputField calls fn for every string field tagged `path:"output"`,
// however deeply it sits in the configuration (nested structs, slices of
// structs).
func eachOutputField(v reflect.Value, fn func(f reflect.StructField, fv reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		switch {
		case f.Tag.Get("path") == "output" && fv.Kind() == reflect.String:
			fn(f, fv)
		case fv.Kind() == reflect.Struct:
			eachOutputField(fv, fn)
		case fv.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			for j := 0; j < fv.Len(); j++ {
				eachOutputField(fv.Index(j), fn)
			}
		}
	}
}

// yamlKey is the key a configuration field has in the pipeline YAML.
func yamlKey(f reflect.StructField) string {
	if k, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); k != "" {
		return k
	}
	return f.Name
}
