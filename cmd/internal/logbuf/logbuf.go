// Package logbuf holds a buffer that a logger and a test may use at once:
// the sink the roles' tests give their slog handlers, to read the logs
// back while the role still runs.
package logbuf

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer for concurrent writers and readers. The zero
// Buffer is empty and ready to use. It is safe for use by multiple
// goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns a copy of what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
