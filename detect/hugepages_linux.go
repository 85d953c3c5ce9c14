package detect

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of an x86-64 and arm64 transparent huge page.
const hugePage = 2 << 20

// adviseHugePages asks the kernel to back the 2 MiB-aligned part of
// [p, p+n) with transparent huge pages. Rule state is read at random over
// gigabytes: with 4 KiB pages nearly every access also misses the TLB.
// It matters when /sys/kernel/mm/transparent_hugepage/enabled is
// "madvise" (Debian's default); with "always" the pages are huge anyway
// and with "never" the advice is ignored, as is any error.
func adviseHugePages(p unsafe.Pointer, n uintptr) {
	start := (uintptr(p) + hugePage - 1) &^ (hugePage - 1)
	end := (uintptr(p) + n) &^ (hugePage - 1)
	if end <= start {
		return
	}
	b := unsafe.Slice((*byte)(p), n)
	off := start - uintptr(p)
	_ = unix.Madvise(b[off:off+(end-start)], unix.MADV_HUGEPAGE)
}
