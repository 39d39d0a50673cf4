package counters

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

type snap struct {
	Requests int64 `name:"x.requests"`
	Bytes    int64 `name:"x.bytes"`
}

func TestLoadAndAll(t *testing.T) {
	var c [2]atomic.Int64
	c[0].Add(3)
	c[1].Add(40)
	s := Load[snap](c[:])
	assert.Equal(t, snap{Requests: 3, Bytes: 40}, s)
	got := map[string]int64{}
	var order []string
	for name, v := range All(s) {
		got[name] = v
		order = append(order, name)
	}
	assert.Equal(t, map[string]int64{"x.requests": 3, "x.bytes": 40}, got)
	assert.Equal(t, []string{"x.requests", "x.bytes"}, order)
	for range All(s) {
		break // stopping early is allowed
	}
}
