package supervisor

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/openfaas/faas-provider/logs"

	"github.com/stockalert/stockalert/localfaas/stack"
)

// logStore keeps the last lines of every function's processes in one ring buffer per function, and
// hands new lines to followers. It implements logs.Requester.
type logStore struct {
	capacity int

	mu        sync.Mutex
	rings     map[string]*ring
	followers map[*follower]struct{}
	closed    chan struct{}
}

type ring struct {
	lines []logs.Message
	next  int // where the next line goes once the ring is full
}

type follower struct {
	req logs.Request
	ch  chan logs.Message
}

func newLogStore(capacity int) *logStore {
	return &logStore{
		capacity:  capacity,
		rings:     map[string]*ring{},
		followers: map[*follower]struct{}{},
		closed:    make(chan struct{}),
	}
}

// add records a line and passes it to the followers that want it. A follower that does not keep up loses
// lines rather than holding up the function.
func (s *logStore) add(msg logs.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[msg.Name]
	if r == nil {
		r = &ring{}
		s.rings[msg.Name] = r
	}
	if len(r.lines) < s.capacity {
		r.lines = append(r.lines, msg)
	} else {
		r.lines[r.next] = msg
		r.next = (r.next + 1) % s.capacity
	}
	for f := range s.followers {
		if matches(f.req, msg) {
			select {
			case f.ch <- msg:
			default:
			}
		}
	}
}

// known reports whether a function ever logged or was registered.
func (s *logStore) known(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.rings[name]
	return ok
}

// register makes a function known before its first line.
func (s *logStore) register(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rings[name] == nil {
		s.rings[name] = &ring{}
	}
}

// Query returns the stored lines that match req (the last req.Tail of them when Tail > 0) and, when
// req.Follow is set, the lines that arrive afterwards until ctx ends or the store closes. The channel is
// closed at the end. It never fails.
func (s *logStore) Query(ctx context.Context, req logs.Request) (<-chan logs.Message, error) {
	s.mu.Lock()
	var past []logs.Message
	if r := s.rings[req.Name]; r != nil {
		ordered := make([]logs.Message, 0, len(r.lines))
		ordered = append(ordered, r.lines[r.next:]...)
		ordered = append(ordered, r.lines[:r.next]...)
		for _, m := range ordered {
			if matches(req, m) {
				past = append(past, m)
			}
		}
	}
	if req.Tail > 0 && len(past) > req.Tail {
		past = past[len(past)-req.Tail:]
	}
	var f *follower
	if req.Follow {
		f = &follower{req: req, ch: make(chan logs.Message, 1024)}
		s.followers[f] = struct{}{}
	}
	s.mu.Unlock()

	out := make(chan logs.Message)
	go func() {
		defer close(out)
		if f != nil {
			defer func() {
				s.mu.Lock()
				delete(s.followers, f)
				s.mu.Unlock()
			}()
		}
		for _, m := range past {
			select {
			case out <- m:
			case <-ctx.Done():
				return
			}
		}
		if f == nil {
			return
		}
		for {
			select {
			case m := <-f.ch:
				select {
				case out <- m:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			case <-s.closed:
				return
			}
		}
	}()
	return out, nil
}

// close ends every follow stream, so that an HTTP server shutting down is not held up by them.
func (s *logStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
}

func matches(req logs.Request, m logs.Message) bool {
	if m.Name != req.Name {
		return false
	}
	if req.Instance != "" && m.Instance != req.Instance {
		return false
	}
	if req.Since != nil && m.Timestamp.Before(*req.Since) {
		return false
	}
	return true
}

// lineWriter cuts a process's output into lines and records each one. Lines longer than maxLine are
// split.
type lineWriter struct {
	emit func(text string)
	buf  []byte
}

const maxLine = 16 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		w.buf = append(w.buf, chunk...)
		for len(w.buf) > maxLine {
			w.emit(string(w.buf[:maxLine]))
			w.buf = append(w.buf[:0], w.buf[maxLine:]...)
		}
		if i < 0 {
			break
		}
		w.emit(string(bytes.TrimSuffix(w.buf, []byte("\r"))))
		w.buf = w.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// flush records a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = w.buf[:0]
	}
}

func logMessage(name, instance, text string) logs.Message {
	return logs.Message{Name: name, Namespace: stack.Namespace, Instance: instance, Timestamp: time.Now().UTC(), Text: text}
}
