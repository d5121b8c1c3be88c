// Package logcapture captures what loggers and child processes write, for tests to read back while
// the writers may still be running.
//
// Polling for a condition needs no helper here: tests use testify's require.Eventually.
package logcapture

import (
	"bytes"
	"sync"
)

// Buffer is an io.Writer that keeps everything written to it. Unlike bytes.Buffer it is safe for
// concurrent use: several goroutines may Write while others read with String. The zero value is an
// empty buffer ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p. It always returns len(p), nil.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
