package eventstore

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Upcaster turns the payload of one schema version into the next one.
type Upcaster func(data json.RawMessage) (json.RawMessage, error)

type eventType struct {
	version   int
	decode    func(json.RawMessage) (any, error)
	upcasters map[int]Upcaster // from version -> to version+1
}

// Registry maps event type names to Go types and upgrades old payloads
// through upcasters on the way in. Build it once at start; it is not safe to
// register concurrently with decoding.
type Registry struct {
	types map[string]*eventType
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: map[string]*eventType{}} }

// Register adds event type T under name at its current schema version.
// Decode returns payloads of that type as T values.
func Register[T any](r *Registry, name string, version int) error {
	if version < 1 {
		return fmt.Errorf("register event type %s: schema version must be >= 1", name)
	}
	if _, dup := r.types[name]; dup {
		return fmt.Errorf("register event type %s: registered twice", name)
	}
	r.types[name] = &eventType{
		version: version,
		decode: func(data json.RawMessage) (any, error) {
			var v T
			err := json.Unmarshal(data, &v)
			return v, err
		},
		upcasters: map[int]Upcaster{},
	}
	return nil
}

// RegisterUpcaster adds the step that turns version from of name into
// version from+1.
func (r *Registry) RegisterUpcaster(name string, from int, up Upcaster) error {
	t, ok := r.types[name]
	if !ok {
		return fmt.Errorf("register upcaster: unknown event type %s", name)
	}
	if from < 1 || from >= t.version {
		return fmt.Errorf("register upcaster for %s: version %d is not below the current version %d", name, from, t.version)
	}
	t.upcasters[from] = up
	return nil
}

// Version returns the current schema version of an event type.
func (r *Registry) Version(name string) (int, bool) {
	t, ok := r.types[name]
	if !ok {
		return 0, false
	}
	return t.version, true
}

// Names lists the registered event types, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.types))
	for n := range r.types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Decode turns an envelope's payload into its registered Go value,
// upcasting older schema versions first.
func (r *Registry) Decode(e Envelope) (any, error) {
	t, ok := r.types[e.Type]
	if !ok {
		return nil, fmt.Errorf("decode event %s: unknown event type %q", e.ID, e.Type)
	}
	data := e.Data
	if e.SchemaVersion < 1 || e.SchemaVersion > t.version {
		return nil, fmt.Errorf("decode event %s: schema version %d of %s is not one this build knows (1..%d)", e.ID, e.SchemaVersion, e.Type, t.version)
	}
	for v := e.SchemaVersion; v < t.version; v++ {
		up, ok := t.upcasters[v]
		if !ok {
			return nil, fmt.Errorf("decode event %s: no upcaster for %s from version %d", e.ID, e.Type, v)
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, fmt.Errorf("decode event %s: upcast %s from version %d: %w", e.ID, e.Type, v, err)
		}
	}
	v, err := t.decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode event %s of type %s: %w", e.ID, e.Type, err)
	}
	return v, nil
}
