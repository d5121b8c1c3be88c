//go:build unix

// Package deadport gives tests a loopback TCP address that refuses every connection for the whole
// test, the way a stopped broker or an unreachable upstream does.
//
// Closing a listener and handing out its port is not enough: tests run in parallel, and another test's
// server may be given the same port a moment later, so the "dead" address would answer. Here the port
// stays bound (without SO_REUSEADDR, and never listening) until the test ends, so the kernel neither
// hands it to anyone else nor accepts a connection on it: a dial gets ECONNREFUSED.
package deadport

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// Addr returns "127.0.0.1:<port>" where connections are refused until t and its subtests end. It
// fails the test if the socket cannot be created or bound.
func Addr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("deadport: socket: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Close(fd); err != nil {
			t.Errorf("deadport: close: %v", err)
		}
	})
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("deadport: bind 127.0.0.1:0: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("deadport: getsockname: %v", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatalf("deadport: getsockname gave %T", sa)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(in4.Port))
}
