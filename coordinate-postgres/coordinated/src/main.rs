//! The `coordinated` command: parse go's flags, serve, exit 0 after a
//! drained SIGTERM or SIGINT; 2 for a usage error, 1 for any other failure.

use std::process::ExitCode;

use anyhow::Context as _;
use coordinated::cli::parse_args;
use coordinated::{server, ServerError};

/// The runtime's worker threads: request handling is light (store calls
/// run on the blocking pool).
const WORKER_THREADS: usize = 2;

fn main() -> ExitCode {
    let cli = match parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    coordinated::logging::init_tracing();
    let prepared = match server::prepare(cli) {
        Ok(prepared) => prepared,
        Err(e @ ServerError::Usage(_)) => {
            eprintln!("coordinated: {e}");
            return ExitCode::from(2);
        }
        Err(e) => return fail(anyhow::Error::new(e)),
    };
    match serve(prepared) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn serve(prepared: server::Prepared) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("coordinated")
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let result = runtime.block_on(server::run(prepared));
    // Store calls cut off by the grace period are not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result.context("coordinated")
}

fn fail(error: anyhow::Error) -> ExitCode {
    eprintln!("coordinated: {error:#}");
    ExitCode::FAILURE
}
