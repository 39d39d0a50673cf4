// Package counters turns a fixed array of atomic counters into a plain
// snapshot struct and back into named figures: what the inputs' Stats
// types share. A snapshot type is a struct of int64 fields, one per
// counter in order, each tagged with its name (`name:"drain.requests"`).
package counters

import (
	"iter"
	"reflect"
	"sync"
	"sync/atomic"
)

// Load returns a T whose i-th field holds c[i]. Each counter is read
// atomically, but not all of them at one instant. T must be a struct of
// at least len(c) int64 fields.
func Load[T any](c []atomic.Int64) T {
	var snap T
	v := reflect.ValueOf(&snap).Elem()
	for i := range c {
		v.Field(i).SetInt(c[i].Load())
	}
	return snap
}

// names caches each snapshot type's name tags, in field order.
var names sync.Map // reflect.Type → []string

func namesOf(t reflect.Type) []string {
	if n, ok := names.Load(t); ok {
		return n.([]string)
	}
	n := make([]string, t.NumField())
	for i := range n {
		n[i] = t.Field(i).Tag.Get("name")
	}
	names.Store(t, n)
	return n
}

// All yields every field of s as its name tag and its value, in field
// order.
func All[T any](s T) iter.Seq2[string, int64] {
	return func(yield func(string, int64) bool) {
		v := reflect.ValueOf(s)
		for i, name := range namesOf(v.Type()) {
			if !yield(name, v.Field(i).Int()) {
				return
			}
		}
	}
}
