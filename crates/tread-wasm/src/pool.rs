//! The rayon pool on web workers.
//!
//! rayon asks a spawn handler to start each pool thread. We box rayon's `ThreadBuilder`,
//! hand its address to JavaScript (`tread.spawn_worker`), and a worker that shares this
//! module and memory calls `tread_worker_run` with it, which runs the thread's loop for
//! the life of the worker.

#[link(wasm_import_module = "tread")]
extern "C" {
    fn spawn_worker(builder: usize);
}

/// Builds the global pool with `n` workers; 0 on success, -1 if it already exists.
#[no_mangle]
pub extern "C" fn tread_pool_init(n: usize) -> i32 {
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(n.max(1))
        .spawn_handler(|builder| {
            let ptr = Box::into_raw(Box::new(builder)) as usize;
            unsafe { spawn_worker(ptr) };
            Ok(())
        })
        .build_global();
    if built.is_ok() {
        0
    } else {
        -1
    }
}

/// Entry point of a worker: runs one rayon thread until the pool ends.
///
/// # Safety
/// `builder` must be a pointer handed out by `spawn_worker`, used once.
#[no_mangle]
pub unsafe extern "C" fn tread_worker_run(builder: usize) {
    let builder = Box::from_raw(builder as *mut rayon::ThreadBuilder);
    builder.run();
}
