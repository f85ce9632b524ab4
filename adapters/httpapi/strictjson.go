package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 1 << 20

// maxDepth is how deeply a request body may nest objects and arrays.
const maxDepth = 16

// readBody reads a JSON request body within MaxBodyBytes and checks its
// media type. It answers 415, 413 or 400 through the returned problem.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Problem) {
	ct := r.Header.Get("Content-Type")
	mediaType, _, _ := strings.Cut(ct, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	if mediaType != "application/json" && !(strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")) {
		return nil, newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			fmt.Sprintf("the body must be application/json, not %q", ct))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, newProblem(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
				fmt.Sprintf("the body must be at most %d bytes", MaxBodyBytes))
		}
		return nil, newProblem(http.StatusBadRequest, "unreadable-body", "Unreadable request body", "the request body could not be read")
	}
	return body, nil
}

// decodeStrict decodes a JSON object into the struct pointed to by v and
// refuses what encoding/json lets through: duplicate keys (also ones that
// differ only in case), keys that are not exactly a field's name, unknown
// fields, values of the wrong type, invalid UTF-8 and trailing data.
func decodeStrict(body []byte, v any) *Problem {
	bad := func(field, code, msg string) *Problem {
		return fieldProblem(http.StatusBadRequest, "malformed-json", "Malformed JSON body", field, code, msg)
	}
	if !utf8.Valid(body) {
		return bad("", "invalid_utf8", "the body is not valid UTF-8")
	}
	if p := checkKeys(body, reflect.TypeOf(v).Elem(), bad); p != nil {
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return bad(typeErr.Field, "wrong_type", fmt.Sprintf("%s must be a JSON %s, not %s", typeErr.Field, jsonKind(typeErr.Type), typeErr.Value))
		}
		return bad("", "syntax", "the body is not a valid JSON object: "+err.Error())
	}
	return nil
}

// checkKeys walks the JSON document token by token.
func checkKeys(body []byte, t reflect.Type, bad func(field, code, msg string) *Problem) *Problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return bad("", "empty", "the body is empty; a JSON object is required")
		}
		return bad("", "syntax", "the body is not valid JSON: "+err.Error())
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return bad("", "not_object", "the body must be a JSON object")
	}
	if p := walkObject(dec, "", t, 1, bad); p != nil {
		return p
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("", "trailing_data", "the body has data after the JSON object")
	}
	return nil
}

// walkObject checks the keys of the object whose '{' was just read. t is
// the struct type it decodes into (nil when unknown, e.g. a map value).
func walkObject(dec *json.Decoder, path string, t reflect.Type, depth int, bad func(field, code, msg string) *Problem) *Problem {
	if depth > maxDepth {
		return bad(path, "too_deep", fmt.Sprintf("the body nests deeper than %d levels", maxDepth))
	}
	fields := jsonFields(t)
	seen := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(path, "syntax", "the body is not valid JSON: "+err.Error())
		}
		key := tok.(string)
		field := key
		if path != "" {
			field = path + "." + key
		}
		folded := strings.ToLower(key)
		if prev, dup := seen[folded]; dup {
			if prev == key {
				return bad(field, "duplicate_key", fmt.Sprintf("the key %q appears more than once", key))
			}
			return bad(field, "duplicate_key", fmt.Sprintf("the keys %q and %q differ only in case", prev, key))
		}
		seen[folded] = key
		var child reflect.Type
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				return bad(field, "unknown_field", fmt.Sprintf("unknown field %q (field names are case-sensitive)", key))
			}
			child = ft
		}
		if p := walkValue(dec, field, child, depth, bad); p != nil {
			return p
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return bad(path, "syntax", "the body is not valid JSON: "+err.Error())
	}
	return nil
}

func walkValue(dec *json.Decoder, path string, t reflect.Type, depth int, bad func(field, code, msg string) *Problem) *Problem {
	tok, err := dec.Token()
	if err != nil {
		return bad(path, "syntax", "the body is not valid JSON: "+err.Error())
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch d {
	case '{':
		if t != nil && t.Kind() != reflect.Struct {
			t = nil
		}
		return walkObject(dec, path, t, depth+1, bad)
	case '[':
		if depth+1 > maxDepth {
			return bad(path, "too_deep", fmt.Sprintf("the body nests deeper than %d levels", maxDepth))
		}
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if p := walkValue(dec, fmt.Sprintf("%s[%d]", path, i), elem, depth+1, bad); p != nil {
				return p
			}
		}
		if _, err := dec.Token(); err != nil {
			return bad(path, "syntax", "the body is not valid JSON: "+err.Error())
		}
	}
	return nil
}

// jsonFields maps a struct's JSON names to field types; nil when t is not
// a struct.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}
