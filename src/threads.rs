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
//! cost about half a microsecond of fork/join, not a futex round trip; the
//! caller spins for its workers likewise. The shared state is laid out so
//! that a call moves two cache lines between cores (see [`Shared`]): an
//! empty two-thread call took 0.91 µs with a mutex-guarded job, one shared
//! line of counters and a per-call index vector, 0.48 µs now (Intel Xeon
//! VM, AVX-512, 2 vCPUs).
//!
//! The team is created on first use with `JITEXPR_NUM_THREADS` threads if
//! that variable is set, otherwise one per available core;
//! [`set_num_threads`] replaces it. A call made while the team is busy
//! (another thread's call, or a call from inside a job) runs its parts one
//! after another on the calling thread: same results, no waiting.
//!
//! One of the three modules allowed `unsafe` (with `alloc.rs` and
//! `backend/jit/call/`): the blocks that lend a job to the workers for the
//! duration of a call (through a cell the epoch protocol guards, see
//! [`Team::run`]), and one that sets an environment variable while the
//! process has one thread ([`set_env_while_alone`]).
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

/// A job: called once by each thread that takes part in a call, with a
/// source of the indices it is to run (`None` when none is left).
type JobOf<'a> = dyn Fn(&mut dyn FnMut() -> Option<usize>) + Sync + 'a;
/// A job as lent to the workers for one call.
type Job = JobOf<'static>;

/// `T` alone on its cache lines (two: Intel's adjacent-line prefetcher
/// pairs them), so that a write by one thread does not take a line another
/// thread is reading.
#[repr(align(128))]
struct Line<T>(T);

impl<T> std::ops::Deref for Line<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A worker's state, `epoch << 2 | tag`: the last call it took part in or
/// was shut out of, and how.
const DONE: u64 = 0;
/// The worker is setting up its part of the call (its index counter).
const CLAIMING: u64 = 1;
/// The worker runs its part of the call; others may take its indices.
const JOINED: u64 = 2;
/// Another thread took the worker's part before it joined: the worker
/// must not touch this call.
const CLOSED: u64 = 3;

fn state(epoch: u64, tag: u64) -> u64 {
    epoch << 2 | tag
}

/// Shuts worker state `w` (read as `now`) out of call `epoch` if it has
/// not joined it yet; whether this thread did (it then runs the part).
fn shut_out(w: &AtomicU64, now: u64, epoch: u64) -> bool {
    now >> 2 < epoch
        && w.compare_exchange(
            now,
            state(epoch, CLOSED),
            Ordering::SeqCst,
            Ordering::SeqCst,
        )
        .is_ok()
}

/// The current call, written by the caller before it publishes the epoch.
struct Call {
    /// Bumped for each call, to wake the workers.
    epoch: AtomicU64,
    /// The call's number of indices and its job (lent for the call).
    job: std::cell::UnsafeCell<(usize, Option<&'static Job>)>,
}

/// What the caller and the workers share. A call costs two cache-line
/// transfers when the workers are awake: the caller's `call` line to each
/// worker, and each worker's `states` line back; a worker's index counter
/// stays in its own cache unless another thread takes its indices.
struct Shared {
    call: Line<Call>,
    /// Each worker's state (index `part - 1`), see [`DONE`].
    states: Box<[Line<AtomicU64>]>,
    /// The next index of each part.
    next: Box<[Line<AtomicUsize>]>,
    /// The first panic of the current call on a worker.
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
    /// The caller, while it sleeps waiting for a worker.
    caller: Line<Waiter>,
    /// Workers asleep (waiting on `wake`).
    sleeping: Line<AtomicUsize>,
    sleep: Mutex<()>,
    wake: Condvar,
    shutdown: AtomicBool,
}

/// A thread asleep until a worker finishes.
struct Waiter {
    /// Whether `thread` sleeps (or is about to).
    parked: AtomicBool,
    thread: Mutex<Option<Thread>>,
}

// SAFETY: `call.job` is written only by the thread that holds `Team::busy`,
// while no worker may read it (see `Team::run`), and read by a worker only
// between its successful `CLAIMING` exchange and its `DONE` store; every
// other field is `Sync` on its own.
unsafe impl Sync for Shared {}

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
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            call: Line(Call {
                epoch: AtomicU64::new(0),
                job: std::cell::UnsafeCell::new((0, None)),
            }),
            states: (1..threads).map(|_| Line(AtomicU64::new(0))).collect(),
            next: (0..threads).map(|_| Line(AtomicUsize::new(0))).collect(),
            panic: Mutex::new(None),
            caller: Line(Waiter {
                parked: AtomicBool::new(false),
                thread: Mutex::new(None),
            }),
            sleeping: Line(AtomicUsize::new(0)),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
            shutdown: AtomicBool::new(false),
        });
        let mut team = Team {
            threads,
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
        let alone = || {
            let mut state = init();
            (0..n).for_each(|i| f(&mut state, i));
        };
        if self.threads == 1 || n <= 1 {
            return alone();
        }
        let Ok(_busy) = self.busy.try_lock() else {
            return alone();
        };
        let job = |claim: &mut dyn FnMut() -> Option<usize>| {
            let mut state = None;
            while let Some(i) = claim() {
                f(state.get_or_insert_with(&init), i);
            }
        };
        self.run(n, &job);
    }

    /// Runs `job` here as part 0 of `n` indices and on each worker that
    /// joins in time; returns once every worker that joined has finished
    /// and every other one is shut out of the call. Needs `busy` held.
    fn run<'a>(&self, n: usize, job: &'a JobOf<'a>) {
        let s = &*self.shared;
        // SAFETY: a worker calls the job only between its successful
        // `CLAIMING` exchange for this call's epoch and its `DONE` store;
        // this function waits until every worker is `DONE` or `CLOSED` for
        // this epoch before it returns, and cannot unwind before that (the
        // caller's part runs under `catch_unwind`): the borrow outlives every
        // use.
        let lent: &'static Job = unsafe { std::mem::transmute::<&'a JobOf<'a>, &'static Job>(job) };
        let epoch = s.call.epoch.load(Ordering::Relaxed) + 1;
        // SAFETY: only the holder of `busy` writes the cell, and no worker
        // reads it now: each is `DONE` or `CLOSED` for an earlier epoch (the
        // previous call waited for that) and can claim no epoch before the
        // store below publishes this one.
        unsafe { *s.call.job.get() = (n, Some(lent)) };
        s.next[0].store(part(n, self.threads, 0).start, Ordering::Relaxed);
        s.call.epoch.store(epoch, Ordering::SeqCst);
        if s.sleeping.load(Ordering::SeqCst) > 0 {
            let _guard = lock(&s.sleep);
            s.wake.notify_all();
        }
        let mine = catch_unwind(AssertUnwindSafe(|| {
            job(&mut claims(s, self.threads, n, epoch, 0))
        }));
        let finished = |now| now == state(epoch, DONE) || now == state(epoch, CLOSED);
        for w in &s.states {
            let start = Instant::now();
            loop {
                let now = w.load(Ordering::SeqCst);
                if finished(now) {
                    break;
                }
                // Only after a panic here: shut out a worker that has not
                // joined (without one, `claims` took its part).
                if shut_out(w, now, epoch) {
                    break;
                }
                if start.elapsed() < SPIN {
                    std::hint::spin_loop();
                } else {
                    *lock(&s.caller.thread) = Some(std::thread::current());
                    s.caller.parked.store(true, Ordering::SeqCst);
                    if !finished(w.load(Ordering::SeqCst)) {
                        // A worker that finishes now unparks this thread.
                        std::thread::park_timeout(Duration::from_millis(1));
                    }
                    s.caller.parked.store(false, Ordering::SeqCst);
                }
            }
        }
        let theirs = lock(&s.panic).take();
        if let Err(p) = mine {
            resume_unwind(p);
        }
        if let Some(p) = theirs {
            resume_unwind(p);
        }
    }
}

/// The indices thread `t` runs in call `epoch` of `n` indices over
/// `parts` threads: those of its own part, then what is left of the
/// others' (a worker that has not joined is shut out and its whole part
/// run here).
fn claims(
    s: &Shared,
    parts: usize,
    n: usize,
    epoch: u64,
    t: usize,
) -> impl FnMut() -> Option<usize> {
    let mut order = (t..parts).chain(0..t);
    let mut current = order.next();
    // The indices of a part shut out by this thread: only it runs them.
    let mut owned: Option<Range<usize>> = None;
    move || loop {
        if let Some(r) = owned.as_mut() {
            if let Some(i) = r.next() {
                return Some(i);
            }
            owned = None;
            current = order.next();
        }
        let u = current?;
        // This thread's part and the caller's have counters set up for this
        // call; a worker's has one once it joined. A worker's part that is
        // done, being claimed (the worker will run it) or shut out by
        // another thread (which runs it) has nothing for this thread.
        let counted = u == t || u == 0 || {
            let w = &s.states[u - 1];
            let now = w.load(Ordering::Acquire);
            if shut_out(w, now, epoch) {
                owned = Some(part(n, parts, u));
                continue;
            }
            now == state(epoch, JOINED)
        };
        if counted {
            let end = part(n, parts, u).end;
            let i = s.next[u].fetch_add(1, Ordering::Relaxed);
            if i < end {
                return Some(i);
            }
        }
        current = order.next();
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        let s = &*self.shared;
        s.shutdown.store(true, Ordering::SeqCst);
        s.call.epoch.fetch_add(1, Ordering::SeqCst);
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

/// A worker: waits for each new call (spinning, then asleep) and joins it
/// as part `part` unless another thread has shut it out.
fn work(s: &Shared, part_index: usize) {
    let mut seen = 0;
    let me = &s.states[part_index - 1];
    loop {
        let start = Instant::now();
        while s.call.epoch.load(Ordering::Acquire) == seen {
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
            while s.call.epoch.load(Ordering::SeqCst) == seen {
                guard = s.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
            s.sleeping.fetch_sub(1, Ordering::SeqCst);
        }
        seen = s.call.epoch.load(Ordering::Acquire);
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let now = me.load(Ordering::Acquire);
        if now >> 2 >= seen
            || me
                .compare_exchange(
                    now,
                    state(seen, CLAIMING),
                    Ordering::SeqCst,
                    Ordering::Acquire,
                )
                .is_err()
        {
            // Shut out of this call: another thread runs this part.
            continue;
        }
        // SAFETY: this worker claimed the current call (its epoch cannot
        // end before this worker stores `DONE`), so the caller does not
        // write the cell until then.
        let (n, job) = unsafe { *s.call.job.get() };
        let parts = s.next.len();
        s.next[part_index].store(part(n, parts, part_index).start, Ordering::Relaxed);
        me.store(state(seen, JOINED), Ordering::Release);
        if let Some(job) = job
            && let Err(p) = catch_unwind(AssertUnwindSafe(|| {
                job(&mut claims(s, parts, n, seen, part_index))
            }))
        {
            lock(&s.panic).get_or_insert(p);
        }
        me.store(state(seen, DONE), Ordering::SeqCst);
        if s.caller.parked.load(Ordering::SeqCst)
            && let Some(caller) = lock(&s.caller.thread).as_ref()
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

    /// A part that takes longer than the caller's spin (the caller then
    /// sleeps until the worker wakes it) and calls that end before a
    /// worker joins (the caller shuts it out and runs its part) both run
    /// every index once, and the next calls still do.
    #[test]
    fn slow_parts_and_workers_that_join_late_run_every_index_once() {
        let team = Team::new(2).unwrap();
        for round in 0..20 {
            let hits: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
            team.for_each(
                4,
                || (),
                |_, i| {
                    if i == 3 && round % 2 == 0 {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    hits[i].fetch_add(1, Ordering::SeqCst);
                },
            );
            let counts: Vec<usize> = hits.iter().map(|h| h.load(Ordering::SeqCst)).collect();
            assert_eq!(counts, [1, 1, 1, 1], "round {round}");
        }
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
