//! `ferry`: the command line of the Ferry connector host.

mod cli;

/// mimalloc rather than glibc's allocator: a worker allocates on one
/// thread and frees on another all the time (a job's task moves between
/// the runtime's threads, SQLite answers on its own), and glibc's arenas
/// then take a lock on each such free; the threads waited for each other
/// there ~400 times a second in the queue benchmark (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
