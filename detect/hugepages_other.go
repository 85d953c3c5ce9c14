//go:build !linux

package detect

import "unsafe"

// adviseHugePages is Linux only.
func adviseHugePages(unsafe.Pointer, uintptr) {}
