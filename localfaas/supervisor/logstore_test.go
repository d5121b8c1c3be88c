package supervisor

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/openfaas/faas-provider/logs"
)

func collect(t *testing.T, ch <-chan logs.Message) []string {
	t.Helper()
	var out []string
	for m := range ch {
		out = append(out, m.Text)
	}
	return out
}

func TestLogStoreKeepsTheLastLinesPerFunction(t *testing.T) {
	s := newLogStore(3)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		s.add(logs.Message{Name: "a", Instance: "a-1", Timestamp: base.Add(time.Duration(i) * time.Second), Text: fmt.Sprint("a", i)})
	}
	s.add(logs.Message{Name: "b", Instance: "b-1", Timestamp: base, Text: "b0"})
	ch, _ := s.Query(context.Background(), logs.Request{Name: "a"})
	if got := strings.Join(collect(t, ch), ","); got != "a2,a3,a4" {
		t.Fatalf("ring = %s", got)
	}
	ch, _ = s.Query(context.Background(), logs.Request{Name: "a", Tail: 2})
	if got := strings.Join(collect(t, ch), ","); got != "a3,a4" {
		t.Fatalf("tail = %s", got)
	}
	since := base.Add(3 * time.Second)
	ch, _ = s.Query(context.Background(), logs.Request{Name: "a", Since: &since})
	if got := strings.Join(collect(t, ch), ","); got != "a3,a4" {
		t.Fatalf("since = %s", got)
	}
	ch, _ = s.Query(context.Background(), logs.Request{Name: "a", Instance: "a-2"})
	if got := collect(t, ch); len(got) != 0 {
		t.Fatalf("other instance = %v", got)
	}
	if !s.known("b") || s.known("c") {
		t.Fatal("known")
	}
}

func TestLogStoreFollowEndsWithContextOrClose(t *testing.T) {
	s := newLogStore(10)
	s.add(logMessage("a", "a-1", "old"))
	ctx, cancel := context.WithCancel(context.Background())
	ch, _ := s.Query(ctx, logs.Request{Name: "a", Follow: true})
	if m := <-ch; m.Text != "old" {
		t.Fatalf("first %q", m.Text)
	}
	s.add(logMessage("b", "b-1", "other function"))
	s.add(logMessage("a", "a-1", "new"))
	if m := <-ch; m.Text != "new" {
		t.Fatalf("followed %q", m.Text)
	}
	cancel()
	for range ch {
	}

	ch, _ = s.Query(context.Background(), logs.Request{Name: "a", Follow: true, Tail: 1})
	<-ch
	s.close()
	for range ch {
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.followers) != 0 {
		t.Fatalf("%d followers left", len(s.followers))
	}
}

func TestLineWriterSplitsLines(t *testing.T) {
	var lines []string
	w := &lineWriter{emit: func(s string) { lines = append(lines, s) }}
	write := func(s string) {
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
	}
	write("one\r\ntw")
	write("o\n\nthree")
	w.flush()
	long := strings.Repeat("x", maxLine+10)
	write(long + "\n")
	want := []string{"one", "two", "", "three", long[:maxLine], "xxxxxxxxxx"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("line %d has %d bytes (%.20q...), want %d (%.20q...)", i, len(lines[i]), lines[i], len(want[i]), want[i])
		}
	}
}
