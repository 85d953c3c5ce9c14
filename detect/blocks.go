package detect

import (
	"math/bits"
	"unsafe"
)

// blocks hands out lists of T whose capacity is a power of two, named by
// a handle (0: none). A rule state that needs a list that grows (the times
// in a window, the distinct values seen) keeps a handle instead of a slice:
// the state then holds no pointer, so the garbage collector neither scans
// the millions of states nor the lists, and its marking stays short however
// much state the detector holds.
type blocks[T any] struct {
	classes [maxBlockClass + 1]blockClass[T]
}

// blockClass holds the blocks of one size in chunks of blockChunk elements
// (or of one block, for blocks larger than that), so that growing never
// copies what is held.
type blockClass[T any] struct {
	chunks [][]T
	n      uint32 // blocks handed out, live or free
	free   []uint32
}

const (
	blockIndexBits = 27
	maxBlockClass  = 1<<(32-blockIndexBits) - 1 // blocks of up to 2^31 elements
	blockChunk     = 4096
)

// classFor returns the smallest class whose blocks hold n elements.
func classFor(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

func (b *blocks[T]) perChunk(class int) uint32 {
	return uint32(max(blockChunk>>class, 1))
}

// alloc returns a handle to a zeroed block of at least n elements.
func (b *blocks[T]) alloc(n int) uint32 {
	class := classFor(n)
	c := &b.classes[class]
	var i uint32
	if k := len(c.free); k > 0 {
		i = c.free[k-1]
		c.free = c.free[:k-1]
	} else {
		if c.n == 1<<blockIndexBits {
			// Far beyond what MaxKeys lets a detector hold; a handle
			// that wrapped would name another state's list.
			panic("detect: more than 2^27 blocks of one size")
		}
		per := b.perChunk(class)
		if c.n == uint32(len(c.chunks))*per {
			c.chunks = append(c.chunks, make([]T, int(per)<<class))
		}
		i = c.n
		c.n++
	}
	return uint32(class)<<blockIndexBits | i + 1
}

// get returns the block named by h (not 0); its length is its capacity.
// The slice is valid until the block is freed.
func (b *blocks[T]) get(h uint32) []T {
	h--
	class := int(h >> blockIndexBits)
	i := h & (1<<blockIndexBits - 1)
	per := b.perChunk(class)
	size := uint32(1) << class
	off := i % per * size
	return b.classes[class].chunks[i/per][off : off+size : off+size]
}

// prefetch starts loading the first n elements of block h, at most two
// cache lines of them: a list read from its start is read in order, which
// the hardware prefetches by itself, and the misses a core can have in
// flight are few (see prefetch). 0 is none.
func (b *blocks[T]) prefetch(h uint32, n int) {
	if h == 0 || n <= 0 {
		return
	}
	l := b.get(h)[:n]
	prefetchRange(uintptr(unsafe.Pointer(&l[0])), min(uintptr(n)*unsafe.Sizeof(l[0]), 2*cacheLine))
}

// release zeroes the block named by h for reuse; 0 is none.
func (b *blocks[T]) release(h uint32) {
	if h == 0 {
		return
	}
	clear(b.get(h))
	h--
	c := &b.classes[h>>blockIndexBits]
	c.free = append(c.free, h&(1<<blockIndexBits-1))
}

// grow returns a handle to a block of at least n elements that starts
// with the first used elements of h's block, and frees h's.
func (b *blocks[T]) grow(h uint32, used, n int) uint32 {
	nh := b.alloc(n)
	if h != 0 {
		copy(b.get(nh), b.get(h)[:used])
		b.release(h)
	}
	return nh
}

// held is how many elements the live blocks take, for the state gauge.
func (b *blocks[T]) held() int {
	total := 0
	for class := range b.classes {
		c := &b.classes[class]
		total += (int(c.n) - len(c.free)) << class
	}
	return total
}

// compact moves the live blocks of each class that is mostly free (at most
// a quarter in use) to as few chunks as they need, so that memory goes
// back after a flood of keys has drained. It returns how to rewrite a
// handle (the caller must rewrite every one it holds), or nil when it moved
// nothing.
func (b *blocks[T]) compact() func(uint32) uint32 {
	var remaps [maxBlockClass + 1][]uint32
	moved := false
	for class := range b.classes {
		c := &b.classes[class]
		live := int(c.n) - len(c.free)
		if len(c.chunks) <= 1 || live >= int(c.n)/4 {
			continue
		}
		free := make([]bool, c.n)
		for _, i := range c.free {
			free[i] = true
		}
		old := *c
		*c = blockClass[T]{}
		remap := make([]uint32, old.n)
		per := b.perChunk(class)
		size := uint32(1) << class
		for i := uint32(0); i < old.n; i++ {
			if free[i] {
				continue
			}
			h := b.alloc(1 << class)
			src := old.chunks[i/per][i%per*size : i%per*size+size]
			copy(b.get(h), src)
			remap[i] = h
		}
		remaps[class] = remap
		moved = true
	}
	if !moved {
		return nil
	}
	return func(h uint32) uint32 {
		if h == 0 {
			return 0
		}
		class := (h - 1) >> blockIndexBits
		if remaps[class] == nil {
			return h
		}
		return remaps[class][(h-1)&(1<<blockIndexBits-1)]
	}
}

// compactWithBlocks compacts the arena of a store's states and the blocks
// they keep lists in, and rewrites the handle each state holds (where
// handle says). It returns the arena's remap (see arena.compact).
func compactWithBlocks[S, T any](a *arena[S], b *blocks[T], handle func(*S) *uint32) []uint32 {
	remap := a.compact()
	if m := b.compact(); m != nil {
		for i := 0; i < a.n; i++ {
			h := handle(a.at(uint32(i)))
			*h = m(*h)
		}
	}
	return remap
}
