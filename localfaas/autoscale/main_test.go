package autoscale_test

import (
	"os"
	"testing"

	"github.com/stockalert/stockalert/localfaas/internal/lftest"
)

// TestMain builds each test function once for the whole package.
func TestMain(m *testing.M) { os.Exit(lftest.Main(m)) }
