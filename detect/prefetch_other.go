//go:build !amd64 && !arm64

package detect

// prefetch is a hint only; elsewhere it does nothing.
func prefetch(uintptr) {}
