package receiver

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// flaky fails its first n publishes, then records.
type flaky struct {
	mu   sync.Mutex
	fail int
	got  [][]byte
}

func (f *flaky) PublishBatch(ctx context.Context, shard int, b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("bus down")
	}
	f.got = append(f.got, b)
	return nil
}

func TestPublisherRetriesThenDrops(t *testing.T) {
	tests := []struct {
		name          string
		fail          int
		ttl           time.Duration
		wantPublished uint64
		wantDropped   uint64
		wantFailing   bool
	}{
		{"first try", 0, time.Second, 1, 0, false},
		{"after two failures", 2, 5 * time.Second, 1, 0, false},
		{"never within the ttl", 1 << 30, 200 * time.Millisecond, 0, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flaky{fail: tt.fail}
			p := newPublisher(f, 4, tt.ttl, slog.New(slog.DiscardHandler))
			assert.True(t, p.offer(outgoing{shard: 0, data: []byte("b"), cut: time.Now()}))
			close(p.q)
			p.run(context.Background())
			assert.Equal(t, tt.wantPublished, p.published.Load())
			assert.Equal(t, tt.wantDropped, p.dropped.Load())
			assert.Equal(t, tt.wantFailing, p.failing())
		})
	}
}

func TestPublisherQueueIsBounded(t *testing.T) {
	p := newPublisher(&flaky{}, 2, time.Second, slog.New(slog.DiscardHandler))
	now := time.Now()
	assert.True(t, p.offer(outgoing{cut: now}))
	assert.True(t, p.offer(outgoing{cut: now}))
	assert.False(t, p.offer(outgoing{cut: now}), "a full queue drops instead of blocking")
	assert.Equal(t, uint64(1), p.dropped.Load())
	assert.True(t, p.failing(), "the latest cut was dropped")
}
