//! Maps over slices on every core with the `parallel` feature (rayon, the default), or in a
//! plain loop without it (the WASM module: a browser has one thread). Either way the output is
//! in input order, so results never depend on scheduling.

/// `items.map(f)`, in parallel when the `parallel` feature is on.
#[cfg(feature = "parallel")]
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    items.par_iter().map(f).collect()
}

/// `items.map(f)`, in parallel when the `parallel` feature is on.
#[cfg(not(feature = "parallel"))]
pub(crate) fn map<T, R>(items: &[T], f: impl Fn(&T) -> R) -> Vec<R> {
    items.iter().map(f).collect()
}
