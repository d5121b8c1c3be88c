// Command broken does not compile: the tests check that a build failure is reported.
package main

func main() { notDefined() }
