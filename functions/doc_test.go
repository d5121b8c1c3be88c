// Package functions_test holds the test that chains every function's handlers in one process. Each
// function itself lives in its own folder (functions/<name>: an entry point and its wiring).
package functions_test
