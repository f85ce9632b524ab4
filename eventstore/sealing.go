package eventstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Sensitive fields are string fields of an event struct tagged
// `sensitive:"<scope>"`: free text is sealed with the key of the scope
// "signal", a reporter's identity with the key of the scope "reporter".
// A sealed value reads "enc:v1:<scope>:<key id>:<base64 of nonce and
// AES-256-GCM ciphertext>", the scope and key id also bound as additional
// data so that a value cannot be moved to another key's place.
const sealedPrefix = "enc:v1:"

// KeyIDs names the key that seals a value of a scope: the aggregate's id
// for the scope "signal", a keyed hash of the person for "reporter".
type KeyIDs func(scope, plain string) (id string, ok bool)

// Seal encrypts every sensitive field of the struct v points to, in place,
// creating keys as needed. A sensitive field whose scope has no key id is
// an error: nothing sensitive is written in the clear by mistake.
func Seal(ctx context.Context, kr Keyring, v any, ids KeyIDs) error {
	return walkSensitive(v, func(scope string, f reflect.Value) error {
		plain := f.String()
		if plain == "" || strings.HasPrefix(plain, sealedPrefix) {
			return nil
		}
		sealed, err := SealString(ctx, kr, scope, plain, ids)
		if err != nil {
			return err
		}
		f.SetString(sealed)
		return nil
	})
}

// SealString seals one value of a scope.
func SealString(ctx context.Context, kr Keyring, scope, plain string, ids KeyIDs) (string, error) {
	if plain == "" || strings.HasPrefix(plain, sealedPrefix) {
		return plain, nil
	}
	id, ok := ids(scope, plain)
	if !ok {
		return "", fmt.Errorf("seal: no key for scope %q", scope)
	}
	key, err := kr.Key(ctx, scope, id, true)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return sealString(key, scope, id, plain)
}

// UnsealString opens one sealed value; erased is true when its key was
// destroyed (the value is then ""). A value that is not sealed is
// returned as it is.
func UnsealString(ctx context.Context, kr Keyring, sealed string) (plain string, erased bool, err error) {
	if !strings.HasPrefix(sealed, sealedPrefix) {
		return sealed, false, nil
	}
	parts := strings.SplitN(strings.TrimPrefix(sealed, sealedPrefix), ":", 3)
	if len(parts) != 3 {
		return "", false, fmt.Errorf("open: %w: malformed sealed value", ErrCorrupt)
	}
	key, err := kr.Key(ctx, parts[0], parts[1], false)
	if errors.Is(err, ErrKeyErased) {
		return "", true, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("open: %w", err)
	}
	plain, err = openString(key, parts[0], parts[1], parts[2])
	return plain, false, err
}

// Opened says what Unseal found.
type Opened struct {
	// Erased lists the scopes whose key was destroyed: their fields are now
	// empty.
	Erased []string
}

// Unseal decrypts every sealed field of the struct v points to, in place. A
// field whose key was destroyed becomes empty and its scope is reported.
func Unseal(ctx context.Context, kr Keyring, v any) (Opened, error) {
	var out Opened
	err := walkSensitive(v, func(scope string, f reflect.Value) error {
		sealed := f.String()
		if strings.HasPrefix(sealed, sealedPrefix) && !strings.HasPrefix(sealed, sealedPrefix+scope+":") {
			return fmt.Errorf("open: %w: sealed value of another scope in scope %q", ErrCorrupt, scope)
		}
		plain, erased, err := UnsealString(ctx, kr, sealed)
		if err != nil {
			return err
		}
		if erased && !contains(out.Erased, scope) {
			out.Erased = append(out.Erased, scope)
		}
		f.SetString(plain)
		return nil
	})
	return out, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sealString(key []byte, scope, id, plain string) (string, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	ct := aead.Seal(nonce, nonce, []byte(plain), []byte(scope+"/"+id))
	return sealedPrefix + scope + ":" + id + ":" + base64.RawURLEncoding.EncodeToString(ct), nil
}

func openString(key []byte, scope, id, b64 string) (string, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	data, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(data) < aead.NonceSize() {
		return "", fmt.Errorf("open: %w: malformed ciphertext", ErrCorrupt)
	}
	plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(scope+"/"+id))
	if err != nil {
		return "", fmt.Errorf("open: %w: %v", ErrCorrupt, err)
	}
	return string(plain), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// walkSensitive calls fn for every settable string field tagged
// sensitive, descending into nested structs and slices of structs.
func walkSensitive(v any, fn func(scope string, f reflect.Value) error) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("sensitive fields: want a pointer to a struct, got %T", v)
	}
	return walkValue(rv.Elem(), fn)
}

func walkValue(v reflect.Value, fn func(scope string, f reflect.Value) error) error {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			f := v.Field(i)
			if scope := sf.Tag.Get("sensitive"); scope != "" && f.Kind() == reflect.String {
				if err := fn(scope, f); err != nil {
					return fmt.Errorf("%s: %w", sf.Name, err)
				}
				continue
			}
			if err := walkValue(f, fn); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if err := walkValue(v.Index(i), fn); err != nil {
				return err
			}
		}
	}
	return nil
}
