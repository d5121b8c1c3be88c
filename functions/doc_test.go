// Package functions_test holds the test that runs every function through its shipped composition root
// in one process. Each function lives in its own folder: functions/<name>/main.go, a one-line entry
// point, and functions/<name>/<name>app, its wiring (Name and Wire), which the tests run as main does.
package functions_test
