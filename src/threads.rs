//! The threads jitexpr runs kernels on: a team of `n - 1` workers plus the
//! calling thread, with a static partition of each call's work.
//!
//! A call ([`Team::for_each`]) hands every thread one part, the same part
//! on every call: thread `t` of `n` first takes the `t`-th slice of the
//! indices ([`part`]), so on the next call over the same arrays each core
//! finds its slice still in its own L2 (what OpenMP's static schedule
//! does); a thread that is done helps with the others' slices, so one the
//! OS does not run (a busy machine) cannot hold the call up. The workers
//! stay awake for a while after a job ([`WORKER_SPIN`]: spinning, then
//! yielding their core) before they sleep, so calls in quick succession
//! cost about a microsecond of fork/join, not a futex round trip; the
//! caller spins for its workers likewise.
//!
//! The team is created on first use with `JITEXPR_NUM_THREADS` threads if
//! that variable is set, otherwise one per available core;
//! [`set_num_threads`] replaces it. A call made while the team is busy
//! (another thread's call, or a call from inside a job) runs its parts one
//! after another on the calling thread: same results, no waiting.
//!
//! One of the three modules allowed `unsafe` (with `alloc.rs` and
//! `backend/jit/call/`): one block, which lends a job to the workers for
//! the duration of a call, and one that sets an environment variable while
//! the process has one thread ([`set_env_while_alone`]).
#![allow(unsafe_code)]

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

/// The most threads jitexpr starts ([`set_num_threads`] and
/// `JITEXPR_NUM_THREADS` are capped here): a pool's start-up grows faster
/// than linearly with its size (10,000 threads took 85 s to start), and no
/// machine jitexpr runs on has more cores.
pub const MAX_THREADS: usize = 1024;

/// How long the caller spins for its workers before sleeping.
const SPIN: Duration = Duration::from_micros(100);

/// How long a worker waits awake for the next job before sleeping: it spins
/// for [`SPIN`], then yields its core until this. A call into a team whose
/// workers sleep measured slower than one thread at 1e5 elements from
/// Python (the worker wakes too late to help and the caller waits for it);
/// with 100 µs awake, NumPy's or numexpr's calls between two of jitexpr's
/// put the workers to sleep, and with 2 ms still a 1e6-element NumPy call
/// (2 ms for `arctan2`) did: jitexpr's `arctan2` at 1e6 right after
/// NumPy's took 2.2 ms, the one-thread time, against 1.1 ms right after
/// its own (Intel Xeon VM, 2 vCPUs: waking a vCPU that went idle took
/// longer than the call). 20 ms, alternated with 2 ms over five runs of
/// `py_speed.py` (engines interleaved): 2, 1, 2, 2 and 0 cells short of
/// NumPy or numexpr against 4, 2, 2, 2 and 3 (`exp` at 1e4: 1.14-1.30x
/// against 1.26-1.52x NumPy's time). The cost: a worker yields a core for
/// up to 20 ms after each call, which another library's threads then share
/// (numexpr's two threads interleaved with jitexpr ran 1.5x slower at 1e5,
/// 0.9x at the other sizes, in the same runs).
const WORKER_SPIN: Duration = Duration::from_micros(20_000);

/// A job: called once with each part index `0..threads`.
type Job = dyn Fn(usize) + Sync;

/// What the caller and the workers share.
struct Shared {
    /// Bumped for each job, to wake the workers.
    epoch: AtomicU64,
    /// The current job, lent for the duration of one [`Team::run`].
    job: Mutex<Option<&'static Job>>,
    /// Whether workers may still join the current job.
    open: AtomicBool,
    /// Workers inside the current job.
    active: AtomicUsize,
    /// The first panic of the current job on a worker.
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
    /// The thread waiting for the current job (woken when it finishes).
    caller: Mutex<Option<Thread>>,
    /// Workers asleep (waiting on `wake`).
    sleeping: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
    shutdown: AtomicBool,
}

/// `n - 1` worker threads; the calling thread is part 0 of every job.
pub(crate) struct Team {
    threads: usize,
    shared: Arc<Shared>,
    /// Held for the duration of one job (calls meanwhile run alone).
    busy: Mutex<()>,
    workers: Vec<JoinHandle<()>>,
}

impl Team {
    /// A team of `threads` (at least 1); `None` if a worker cannot start.
    fn new(threads: usize) -> Option<Team> {
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            job: Mutex::new(None),
            open: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            panic: Mutex::new(None),
            caller: Mutex::new(None),
            sleeping: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
            shutdown: AtomicBool::new(false),
        });
        let mut team = Team {
            threads: threads.max(1),
            shared,
            busy: Mutex::new(()),
            workers: Vec::new(),
        };
        for part in 1..team.threads {
            let shared = Arc::clone(&team.shared);
            let handle = std::thread::Builder::new()
                .name(format!("jitexpr-{part}"))
                .spawn(move || work(&shared, part))
                .ok()?;
            team.workers.push(handle);
        }
        Some(team)
    }

    /// The number of threads (parts of a job), the caller's included.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Calls `f(state, i)` exactly once for every `i` in `0..n`, `state`
    /// made by `init` once per thread that takes part. Thread `t` first
    /// takes the indices of its part ([`part`]`(n, threads, t)`) in
    /// order, then helps with the others' (so a thread the OS does not run
    /// delays the call by at most the index it is on). A panic in any call
    /// is raised here once every thread has left the job.
    pub(crate) fn for_each<S>(
        &self,
        n: usize,
        init: impl Fn() -> S + Sync,
        f: impl Fn(&mut S, usize) + Sync,
    ) {
        let parts = self.threads;
        if parts == 1 || n <= 1 {
            let mut state = init();
            (0..n).for_each(|i| f(&mut state, i));
            return;
        }
        // Next index of each part (claimed by fetch_add) and its end.
        let next: Vec<AtomicUsize> = (0..parts)
            .map(|t| AtomicUsize::new(part(n, parts, t).start))
            .collect();
        let job = |t: usize| {
            let mut state = None;
            for u in (t..parts).chain(0..t) {
                let end = part(n, parts, u).end;
                loop {
                    let i = next[u].fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        break;
                    }
                    f(state.get_or_insert_with(&init), i);
                }
            }
        };
        self.run(&job);
    }

    /// Runs `job(0)` here and `job(t)` on each worker `t` that wakes before
    /// `job(0)` returns; returns once every worker that started has
    /// finished. `job(0)` alone must therefore do whatever is left.
    fn run<'a>(&self, job: &'a (dyn Fn(usize) + Sync + 'a)) {
        let Ok(_busy) = self.busy.try_lock() else {
            job(0);
            return;
        };
        let s = &*self.shared;
        // SAFETY: a worker calls the job only while it is counted in
        // `active` and found `open` set after counting itself; this function
        // clears `open`, waits for `active` to be 0 and takes the job back
        // before it returns, and cannot unwind before that (the caller's
        // part runs under `catch_unwind`): the borrow outlives every use.
        let lent: &'static Job =
            unsafe { std::mem::transmute::<&'a (dyn Fn(usize) + Sync + 'a), &'static Job>(job) };
        *lock(&s.job) = Some(lent);
        *lock(&s.caller) = Some(std::thread::current());
        s.open.store(true, Ordering::SeqCst);
        s.epoch.fetch_add(1, Ordering::SeqCst);
        if s.sleeping.load(Ordering::SeqCst) > 0 {
            let _guard = lock(&s.sleep);
            s.wake.notify_all();
        }
        let mine = catch_unwind(AssertUnwindSafe(|| job(0)));
        s.open.store(false, Ordering::SeqCst);
        let start = Instant::now();
        while s.active.load(Ordering::SeqCst) != 0 {
            if start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                // The last worker to leave unparks this thread.
                std::thread::park_timeout(Duration::from_millis(1));
            }
        }
        *lock(&s.job) = None;
        let theirs = lock(&s.panic).take();
        if let Err(p) = mine {
            resume_unwind(p);
        }
        if let Some(p) = theirs {
            resume_unwind(p);
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        let s = &*self.shared;
        s.shutdown.store(true, Ordering::SeqCst);
        s.epoch.fetch_add(1, Ordering::SeqCst);
        {
            let _guard = lock(&s.sleep);
            s.wake.notify_all();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A worker: waits for each new job (spinning, then asleep) and joins it
/// as part `part` if it is still open.
fn work(s: &Shared, part: usize) {
    let mut seen = 0;
    loop {
        let start = Instant::now();
        while s.epoch.load(Ordering::Acquire) == seen {
            let waited = start.elapsed();
            if waited < SPIN {
                std::hint::spin_loop();
                continue;
            }
            if waited < WORKER_SPIN {
                // Still awake for the next call, but giving this core to any
                // other thread that wants it (another library's threads).
                std::thread::yield_now();
                continue;
            }
            let mut guard = lock(&s.sleep);
            s.sleeping.fetch_add(1, Ordering::SeqCst);
            while s.epoch.load(Ordering::SeqCst) == seen {
                guard = s.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
            s.sleeping.fetch_sub(1, Ordering::SeqCst);
        }
        seen = s.epoch.load(Ordering::Acquire);
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        s.active.fetch_add(1, Ordering::SeqCst);
        if s.open.load(Ordering::SeqCst) {
            let job = *lock(&s.job);
            if let Some(job) = job
                && let Err(p) = catch_unwind(AssertUnwindSafe(|| job(part)))
            {
                lock(&s.panic).get_or_insert(p);
            }
        }
        if s.active.fetch_sub(1, Ordering::SeqCst) == 1
            && !s.open.load(Ordering::SeqCst)
            && let Some(caller) = lock(&s.caller).as_ref()
        {
            caller.unpark();
        }
    }
}

/// Part `t` of `parts` of `0..n` (sizes differing by at most one): the
/// parts are in order, disjoint and cover `0..n`.
pub(crate) fn part(n: usize, parts: usize, t: usize) -> Range<usize> {
    let cut = |k: usize| {
        if k >= parts {
            n
        } else {
            n / parts * k + (n % parts) * k / parts
        }
    };
    cut(t)..cut(t + 1)
}

static TEAM: OnceLock<Mutex<Option<Arc<Team>>>> = OnceLock::new();

fn default_threads() -> usize {
    std::env::var("JITEXPR_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .map(|n| n.min(MAX_THREADS))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The team, created on first use; `None` if threads cannot be created
/// (kernels then run on the calling thread).
fn team() -> Option<Arc<Team>> {
    let slot = TEAM.get_or_init(|| Mutex::new(None));
    let mut guard = lock(slot);
    if guard.is_none() {
        *guard = Team::new(default_threads()).map(Arc::new);
    }
    guard.clone()
}

/// Sets the environment variable `key` to `value` if this process has
/// exactly one thread, and says whether it did. `std::env::set_var` is
/// unsafe because another thread may read the environment at the same
/// time (C's `getenv`, in any library, takes no lock); with one thread there
/// is no other, and none can start before this returns, since only this
/// thread could start it. Linux counts the threads in `/proc/self/task`;
/// elsewhere this sets nothing.
#[cfg(feature = "cli")]
pub(crate) fn set_env_while_alone(key: &str, value: &std::ffi::OsStr) -> bool {
    let alone = cfg!(target_os = "linux")
        && std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() == 1);
    if alone {
        // SAFETY: this is the process's only thread (above), so nothing reads
        // or writes the environment concurrently.
        unsafe { std::env::set_var(key, value) };
    }
    alone
}

/// The team if it has more than one thread.
pub(crate) fn parallel_team() -> Option<Arc<Team>> {
    team().filter(|t| t.threads() > 1)
}

/// Uses `n` threads from now on (at least 1, at most 1024, `MAX_THREADS`);
/// returns the previous count.
pub fn set_num_threads(n: usize) -> usize {
    let previous = num_threads();
    let slot = TEAM.get_or_init(|| Mutex::new(None));
    let new = Team::new(n.clamp(1, MAX_THREADS)).map(Arc::new);
    // The old team stops when its last user drops it.
    *lock(slot) = new;
    previous
}

/// The number of threads kernels run on.
pub fn num_threads() -> usize {
    team().map_or(1, |t| t.threads())
}

/// `f(state, i)` for every `i` in `0..n`, on `team` if given (see
/// [`Team::for_each`]), else here; the results in index order.
pub(crate) fn map<S, R: Send>(
    team: Option<&Team>,
    n: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, usize) -> R + Sync,
) -> Vec<R> {
    let Some(team) = team.filter(|t| t.threads() > 1 && n > 1) else {
        let mut state = init();
        return (0..n).map(|i| f(&mut state, i)).collect();
    };
    let slots: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
    team.for_each(n, init, |state, i| {
        let r = f(state, i);
        *lock(&slots[i]) = Some(r);
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("for_each calls every index")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With other threads running (the test harness's, one started here),
    /// the environment is left alone.
    #[cfg(feature = "cli")]
    #[test]
    fn the_environment_is_set_only_by_a_lone_thread() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || rx.recv());
        let key = "JITEXPR_TEST_SET_ENV_WHILE_ALONE";
        assert!(!set_env_while_alone(key, std::ffi::OsStr::new("1")));
        assert!(std::env::var_os(key).is_none());
        drop(tx);
        let _ = other.join();
    }

    #[test]
    fn one_thread_means_no_parallel_team() {
        let previous = set_num_threads(1);
        let one = parallel_team().map(|t| t.threads());
        set_num_threads(2);
        let two = parallel_team().map(|t| t.threads());
        set_num_threads(previous);
        assert_eq!((one, two), (None, Some(2)));
    }

    #[test]
    fn parts_cover_in_order() {
        for (n, parts) in [(10, 3), (1000, 2), (5, 8), (0, 2), (127, 4)] {
            let mut next = 0;
            for t in 0..parts {
                let r = part(n, parts, t);
                assert_eq!(r.start, next, "{n} {parts}");
                assert!(r.len() == n / parts || r.len() == n / parts + 1);
                next = r.end;
            }
            assert_eq!(next, n);
        }
    }

    #[test]
    fn every_index_runs_once() {
        let team = Team::new(3).unwrap();
        for n in [0, 1, 2, 3, 7, 100] {
            for _ in 0..300 {
                let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                team.for_each(
                    n,
                    || (),
                    |_, i| {
                        hits[i].fetch_add(1, Ordering::SeqCst);
                    },
                );
                assert!(hits.iter().all(|h| h.load(Ordering::SeqCst) == 1), "{n}");
            }
        }
        assert_eq!(
            map(Some(&team), 10, || (), |_, i| i * i),
            (0..10).map(|i| i * i).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_nested_call_runs_alone_and_a_panic_comes_back() {
        let team = Team::new(2).unwrap();
        let total = AtomicUsize::new(0);
        team.for_each(
            4,
            || (),
            |_, _| {
                team.for_each(
                    3,
                    || (),
                    |_, _| {
                        total.fetch_add(1, Ordering::SeqCst);
                    },
                );
            },
        );
        assert_eq!(total.load(Ordering::SeqCst), 12);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            team.for_each(8, || (), |_, i| assert!(i != 5, "index 5 fails"));
        }));
        assert!(caught.is_err());
        // The team still works after a panic.
        let hits = AtomicUsize::new(0);
        team.for_each(
            5,
            || (),
            |_, _| {
                hits.fetch_add(1, Ordering::SeqCst);
            },
        );
        assert_eq!(hits.load(Ordering::SeqCst), 5);
    }
}
