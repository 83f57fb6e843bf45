//! A counting global allocator: bytes and allocations, live and peak bytes.
//!
//! Counting is off until [`start`] and off again after [`stop`], so timed runs pay one relaxed
//! atomic load per allocation and nothing else. The `challenge-bench` binary installs it:
//!
//! ```text
//! #[global_allocator]
//! static ALLOC: benchmarks::alloc::Counting = benchmarks::alloc::Counting;
//! ```
//!
//! Without it installed (the criterion benches), [`stop`] reports zeros.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

static ON: AtomicBool = AtomicBool::new(false);
static BYTES: AtomicU64 = AtomicU64::new(0);
static COUNT: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

/// The system allocator, counting while [`start`]ed.
pub struct Counting;

#[allow(
    unsafe_code,
    reason = "GlobalAlloc is an unsafe trait; every call forwards to System unchanged"
)]
// SAFETY: every method forwards to `System` with the caller's arguments; the counters are
// plain atomics and never touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.load(Relaxed) {
            note_alloc(layout.size());
        }
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ON.load(Relaxed) {
            LIVE.fetch_sub(layout.size() as i64, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ON.load(Relaxed) {
            note_alloc(layout.size());
        }
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.load(Relaxed) {
            note_alloc(new_size);
            LIVE.fetch_sub(layout.size() as i64, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn note_alloc(size: usize) {
    BYTES.fetch_add(size as u64, Relaxed);
    COUNT.fetch_add(1, Relaxed);
    let live = LIVE.fetch_add(size as i64, Relaxed) + size as i64;
    PEAK.fetch_max(live, Relaxed);
}

/// What was allocated between [`start`] and [`stop`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes allocated (reallocations count their new size).
    pub bytes: u64,
    /// Allocations.
    pub count: u64,
    /// Bytes still live at [`stop`] (allocated minus freed).
    pub live: i64,
    /// The most bytes live at once.
    pub peak: i64,
}

/// Resets the counters and starts counting (meant for one thread at a time).
pub fn start() {
    BYTES.store(0, Relaxed);
    COUNT.store(0, Relaxed);
    LIVE.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    ON.store(true, Relaxed);
}

/// Stops counting and reports.
pub fn stop() -> Usage {
    ON.store(false, Relaxed);
    Usage {
        bytes: BYTES.load(Relaxed),
        count: COUNT.load(Relaxed),
        live: LIVE.load(Relaxed),
        peak: PEAK.load(Relaxed),
    }
}
