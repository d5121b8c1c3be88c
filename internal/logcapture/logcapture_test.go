package logcapture_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stockalert/stockalert/internal/logcapture"
)

// Many loggers writing at once lose no line and tear none (run with -race).
func TestConcurrentWritersAndReaders(t *testing.T) {
	t.Parallel()
	var b logcapture.Buffer
	logger := slog.New(slog.NewTextHandler(&b, nil))
	const writers, lines = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				logger.Info("line", "writer", w, "i", i)
				_ = b.String() // a reader while others write
			}
		})
	}
	wg.Wait()
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("captured %d lines, want %d", len(got), writers*lines)
	}
	all := b.String()
	for w := range writers {
		for i := range lines {
			want := fmt.Sprintf("msg=line writer=%d i=%d\n", w, i)
			if !strings.Contains(all, want) {
				t.Fatalf("line %q missing", want)
			}
		}
	}
}

func TestZeroValueIsEmpty(t *testing.T) {
	t.Parallel()
	var b logcapture.Buffer
	if b.String() != "" {
		t.Fatalf("zero Buffer holds %q", b.String())
	}
	n, err := b.Write([]byte("abc"))
	if n != 3 || err != nil || b.String() != "abc" {
		t.Fatalf("Write = %d, %v; String = %q", n, err, b.String())
	}
}
