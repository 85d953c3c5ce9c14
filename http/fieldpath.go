package http

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// unknownFieldPath finds the first key in the JSON body that typ has no
// field for and returns its dotted path ("policy.location.plmn"), so that
// a typo in a nested policy names where it is. "" if there is none.
func unknownFieldPath(body []byte, typ reflect.Type) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	return walkUnknown(v, typ, "")
}

func walkUnknown(v any, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return ""
	}
	switch val := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Map:
			for k, e := range val {
				if p := walkUnknown(e, t.Elem(), join(path, k)); p != "" {
					return p
				}
			}
		case reflect.Struct:
			fields := jsonFields(t)
			for k, e := range val {
				ft, ok := fields[k]
				if !ok {
					return join(path, k)
				}
				if p := walkUnknown(e, ft, join(path, k)); p != "" {
					return p
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, e := range val {
				if p := walkUnknown(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

// jsonFields maps the JSON names of t's fields (embedded structs
// flattened) to their types. Matching is exact, as the API documents it.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// badValuePath finds the first value in the JSON body that a field type
// with its own parser (netip.Prefix, port ranges, times …) refuses, and
// returns its dotted path and the parser's reason, so that a bad CIDR deep
// in a policy names where it is. "" if there is none.
func badValuePath(body []byte, typ reflect.Type) (string, error) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return "", nil
	}
	return walkBad(v, typ, "")
}

func walkBad(v any, t reflect.Type, path string) (string, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(textUnmarshaler) || pt.Implements(jsonUnmarshaler) {
		raw, err := json.Marshal(v)
		if err != nil {
			return "", nil
		}
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			return path, err
		}
		return "", nil
	}
	switch val := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Map:
			for k, e := range val {
				if p, err := walkBad(e, t.Elem(), join(path, k)); err != nil {
					return p, err
				}
			}
		case reflect.Struct:
			fields := jsonFields(t)
			for k, e := range val {
				if ft, ok := fields[k]; ok {
					if p, err := walkBad(e, ft, join(path, k)); err != nil {
						return p, err
					}
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, e := range val {
				if p, err := walkBad(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return p, err
				}
			}
		}
	}
	return "", nil
}
