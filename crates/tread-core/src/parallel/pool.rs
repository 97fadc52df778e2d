//! tread's own thread pool: resident workers that spin, then park, on one epoch counter.
//!
//! Why not rayon's pool: a parallel region of a training step lasts tens of microseconds
//! (a 128x256x128 GEMM), and rayon hands a job to a sleeping worker through its sleep
//! module: a mutex, a condition variable and a futex wake per job (`memory.atomic.notify` in
//! wasm, which V8 serves through a global lock). In a 2-thread MLP step that hand-off was
//! 16% of the main thread's time, and the parked worker often started after the caller had
//! already done most of the work. Here a worker that has just finished a region spins on
//! the epoch for a while (`SPIN` loads) before it parks, so the regions of one training step,
//! which follow each other within microseconds, reach a worker that is awake: publishing a
//! region is a few stores and one atomic increment, and the wake-up call is only made when a
//! worker really sleeps.
//!
//! The protocol (all state is static; one region at a time):
//! - The caller takes `BUSY` (another thread already running a region runs its tasks in
//!   order instead: cargo runs tests on several threads), writes the region's description,
//!   publishes it by storing `next = 0` (release), bumps `EPOCH` and, only if `SLEEPERS` is
//!   non-zero, wakes the parked workers. It then takes tasks itself, stops further claims
//!   (`next = STOP`) and waits until every claimed task is done. It never waits for a task
//!   nobody has claimed, so a late, slow or absent worker costs nothing but its share.
//! - A worker sees the epoch change (spinning, or woken), claims tasks with
//!   `next.fetch_add(1)` and runs them. A claim that lands after the caller's `STOP` is out of
//!   range and ends its turn; one that lands in a later region belongs to that region (the
//!   acquire on `next` makes its description visible), whose caller waits for it in turn.
//! - Parking is race-free without a lock around the epoch: the worker counts itself in
//!   `SLEEPERS` (SeqCst) and then waits only while `EPOCH` still has the value it saw; the
//!   caller bumps `EPOCH` (SeqCst) before it reads `SLEEPERS`. At least one of them sees
//!   the other's write, so no worker parks through a region (see `futex`).
//! - A panicking task (native tests; wasm aborts) is caught, counted as done, and re-raised
//!   on the caller after the region: no worker dies, and no caller waits for it forever.

use super::futex;
use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Loads of the epoch a worker makes before it parks (wasm's spin hint is a no-op, so one
/// iteration is one atomic load, a few nanoseconds: 2^17 is roughly 0.1-0.5 ms). The gaps
/// between the regions of a training step are far shorter; a pool idle for longer sleeps.
const DEFAULT_SPIN: usize = 1 << 17;

/// A claim at or above this is out of range: the caller's end-of-region mark.
const STOP: usize = usize::MAX / 2;

static SPIN: AtomicUsize = AtomicUsize::new(DEFAULT_SPIN);
/// Bumped once per region; workers spin and park on it.
pub(super) static EPOCH: AtomicU32 = AtomicU32::new(0);
/// Workers parked (or about to park) on `EPOCH`.
static SLEEPERS: AtomicU32 = AtomicU32::new(0);
/// Held by the thread running a region.
static BUSY: AtomicBool = AtomicBool::new(false);
/// Workers started (wasm: asked of JavaScript; native: std threads).
static WORKERS: AtomicUsize = AtomicUsize::new(0);

/// The region in flight. Fields are atomics because workers read them concurrently; the
/// caller writes them before publishing (`next.store(0, Release)`).
struct Region {
    n: AtomicUsize,
    /// Workers with an index below this take part (setThreads below the pool size).
    helpers: AtomicUsize,
    next: AtomicUsize,
    done: AtomicUsize,
    /// `&F` with its lifetime erased; dereferenced only after a claim below `n`, and the
    /// caller does not return before every claimed task is done.
    task: AtomicUsize,
    /// `call_task::<F>` as an address.
    call: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

static REGION: Region = Region {
    n: AtomicUsize::new(0),
    helpers: AtomicUsize::new(0),
    next: AtomicUsize::new(STOP),
    done: AtomicUsize::new(0),
    task: AtomicUsize::new(0),
    call: AtomicUsize::new(0),
    panic: Mutex::new(None),
};

type CallFn = unsafe fn(usize, usize);

unsafe fn call_task<F: Fn(usize)>(task: usize, i: usize) {
    (*(task as *const F))(i)
}

thread_local! {
    /// 1 + the worker's index on pool workers, 0 elsewhere.
    static WORKER_ID: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// 1 + this worker's index on a pool worker, 0 on any other thread.
pub fn worker_id() -> usize {
    WORKER_ID.with(|c| c.get())
}

/// Sets how many epoch loads a worker spins before it parks (0: park at once).
pub fn set_spin(loads: usize) {
    SPIN.store(loads, Ordering::Relaxed);
}

/// How many workers were started.
pub fn workers() -> usize {
    WORKERS.load(Ordering::Acquire)
}

/// Records that `n` workers are being started by the host (wasm: JavaScript runs
/// `worker_main(i)` on each of its workers).
pub fn expect_workers(n: usize) {
    WORKERS.fetch_max(n, Ordering::AcqRel);
}

/// Takes and runs tasks of the current region until none is left.
fn drain() {
    super::as_task(|| loop {
        let i = REGION.next.fetch_add(1, Ordering::AcqRel);
        if i >= REGION.n.load(Ordering::Relaxed) {
            return;
        }
        let (task, call) = (REGION.task.load(Ordering::Relaxed), REGION.call.load(Ordering::Relaxed));
        let call: CallFn = unsafe { std::mem::transmute::<usize, CallFn>(call) };
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| unsafe { call(task, i) })) {
            REGION.panic.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(p);
        }
        REGION.done.fetch_add(1, Ordering::AcqRel);
    })
}

/// The loop of pool worker `index` (0-based); never returns.
pub fn worker_main(index: usize) -> ! {
    WORKER_ID.with(|c| c.set(index + 1));
    // Not the current epoch: a worker that starts while a region is in flight (JavaScript
    // starts workers asynchronously, after init() returns) joins it at once. Draining a
    // region that is over is harmless: its claims are past STOP.
    let mut seen = EPOCH.load(Ordering::Acquire).wrapping_sub(1);
    loop {
        let mut e = EPOCH.load(Ordering::Acquire);
        let mut spins = SPIN.load(Ordering::Relaxed);
        while e == seen && spins > 0 {
            std::hint::spin_loop();
            spins -= 1;
            e = EPOCH.load(Ordering::Acquire);
        }
        if e == seen {
            SLEEPERS.fetch_add(1, Ordering::SeqCst);
            futex::wait_while_equal(&EPOCH, seen);
            SLEEPERS.fetch_sub(1, Ordering::SeqCst);
            e = EPOCH.load(Ordering::Acquire);
        }
        seen = e;
        if index < REGION.helpers.load(Ordering::Relaxed) {
            drain();
        }
    }
}

/// Starts native worker threads up to `n` (wasm workers come from JavaScript).
#[cfg(not(target_arch = "wasm32"))]
fn ensure_workers(n: usize) {
    static SPAWN: Mutex<()> = Mutex::new(());
    if WORKERS.load(Ordering::Acquire) >= n {
        return;
    }
    let _g = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
    let have = WORKERS.load(Ordering::Acquire);
    for i in have..n {
        std::thread::Builder::new()
            .name(format!("tread-worker-{i}"))
            .spawn(move || worker_main(i))
            .expect("tread: could not start a pool thread");
    }
    WORKERS.fetch_max(n, Ordering::AcqRel);
}

/// Runs `f(0..n)` on the caller and up to `helpers` workers. Returns false, having run
/// nothing, when no worker can help (none started, or another thread holds the pool).
pub fn run<F: Fn(usize) + Sync + Send>(n: usize, helpers: usize, f: &F) -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    ensure_workers(helpers);
    let helpers = helpers.min(workers());
    if helpers == 0 || BUSY.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        return false;
    }
    let r = &REGION;
    r.n.store(n, Ordering::Relaxed);
    r.helpers.store(helpers, Ordering::Relaxed);
    r.task.store(f as *const F as usize, Ordering::Relaxed);
    r.call.store(call_task::<F> as CallFn as usize, Ordering::Relaxed);
    r.done.store(0, Ordering::Relaxed);
    r.next.store(0, Ordering::Release);
    EPOCH.fetch_add(1, Ordering::SeqCst);
    if SLEEPERS.load(Ordering::SeqCst) > 0 {
        futex::wake_all(&EPOCH);
    }
    // Every task runs under catch_unwind (drain), so nothing unwinds past this point
    // before the region is closed.
    drain();
    // Stop further claims, then wait for the ones in flight.
    let claimed = r.next.swap(STOP, Ordering::AcqRel).min(n);
    while r.done.load(Ordering::Acquire) < claimed {
        std::hint::spin_loop();
    }
    let p = r.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
    BUSY.store(false, Ordering::Release);
    if let Some(p) = p {
        resume_unwind(p);
    }
    true
}
