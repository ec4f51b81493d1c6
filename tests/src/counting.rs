//! A counting global allocator for the memory tests and benches: the heap bytes live in
//! the process, and the bytes freed on one thread while it asks for them (what dropping
//! a value frees, without counting other threads' work such as an in-process server).
//!
//! A test or bench binary installs it with
//! `#[global_allocator] static A: Counting = Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// Forwards to the system allocator and counts.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING_FREES: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // try_with: a thread being torn down has no thread-locals left.
        if COUNTING_FREES.try_with(Cell::get).unwrap_or(false) {
            FREED.fetch_add(l.size(), Ordering::Relaxed);
        }
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

/// Heap bytes allocated and not yet freed, process-wide (every thread).
pub fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Heap bytes that dropping `value` frees on this thread (needs [`Counting`] installed).
pub fn held_by<T>(value: T) -> usize {
    let before = FREED.load(Ordering::Relaxed);
    COUNTING_FREES.with(|c| c.set(true));
    drop(value);
    COUNTING_FREES.with(|c| c.set(false));
    FREED.load(Ordering::Relaxed) - before
}
