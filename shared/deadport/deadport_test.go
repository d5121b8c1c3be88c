//go:build unix

package deadport_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/stockalert/stockalert/shared/deadport"
)

// The address refuses connections, and nobody else can take its port while the test runs.
func TestAddrRefusesAndStaysReserved(t *testing.T) {
	addr := deadport.Addr(t)
	_, err := new(net.Dialer).DialContext(context.Background(), "tcp", addr)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", addr)
	if err == nil {
		_ = ln.Close()
		t.Fatalf("another listener took the dead port %s", addr)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("listen on %s: %v, want address in use", addr, err)
	}
}
