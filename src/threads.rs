//! The thread pool jitexpr runs kernels on.
//!
//! jitexpr uses its own rayon pool (not rayon's global one), created on first
//! use with `JITEXPR_NUM_THREADS` threads if that variable is set, otherwise
//! one per available core; [`set_num_threads`] replaces it.

use std::sync::{Arc, Mutex, OnceLock};

static POOL: OnceLock<Mutex<Option<Arc<rayon::ThreadPool>>>> = OnceLock::new();

/// The most threads jitexpr starts ([`set_num_threads`] and
/// `JITEXPR_NUM_THREADS` are capped here): a pool's start-up grows faster
/// than linearly with its size (10,000 threads took 85 s to start), and no
/// machine jitexpr runs on has more cores.
pub const MAX_THREADS: usize = 1024;

fn default_threads() -> usize {
    std::env::var("JITEXPR_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .map(|n| n.min(MAX_THREADS))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn build(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("jitexpr-{i}"))
        .build()
        .ok()
        .map(Arc::new)
}

/// The pool, created on first use; `None` if threads cannot be created
/// (kernels then run on the calling thread).
pub(crate) fn pool() -> Option<Arc<rayon::ThreadPool>> {
    let slot = POOL.get_or_init(|| Mutex::new(None));
    let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        *guard = build(default_threads());
    }
    guard.clone()
}

/// The pool if it has more than one thread: with one, handing work to it
/// only adds a thread switch to running it here.
pub(crate) fn parallel_pool() -> Option<Arc<rayon::ThreadPool>> {
    pool().filter(|p| p.current_num_threads() > 1)
}

/// Uses `n` threads from now on (at least 1, at most 1024, `MAX_THREADS`);
/// returns the previous count.
pub fn set_num_threads(n: usize) -> usize {
    let previous = num_threads();
    let slot = POOL.get_or_init(|| Mutex::new(None));
    let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
    *guard = build(n.clamp(1, MAX_THREADS));
    previous
}

/// The number of threads kernels run on.
pub fn num_threads() -> usize {
    pool().map_or(1, |p| p.current_num_threads())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_thread_means_no_parallel_pool() {
        let previous = set_num_threads(1);
        let one = parallel_pool().map(|p| p.current_num_threads());
        set_num_threads(2);
        let two = parallel_pool().map(|p| p.current_num_threads());
        set_num_threads(previous);
        assert_eq!((one, two), (None, Some(2)));
    }
}
