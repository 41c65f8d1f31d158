//! Stopping a runtime on SIGTERM or SIGINT (feature `signals`): the first
//! signal stops it gracefully, a second one at once.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use crate::runtime::Stopper;

/// Listens for the signals until closed or until a second signal.
pub struct SignalListener {
    handle: Handle,
    thread: std::thread::JoinHandle<()>,
}

impl SignalListener {
    /// Stops listening; the process's default handling does not come back
    /// (signal-hook cannot restore it), so later signals are ignored.
    pub fn close(self) {
        self.handle.close();
        let _ = self.thread.join();
    }
}

/// Takes SIGTERM and SIGINT for the runtime behind `stopper`: the first
/// begins a graceful stop, the second stops at once.
///
/// Errors: the operating system's, when the handlers cannot be installed.
pub fn stop_on_signals(stopper: Stopper) -> std::io::Result<SignalListener> {
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    let handle = signals.handle();
    let thread = std::thread::Builder::new()
        .name("coordinate-signals".into())
        .spawn(move || {
            let mut received = 0;
            for signal in signals.forever() {
                received += 1;
                if received == 1 {
                    tracing::info!(signal, "stopping gracefully; send it again to stop at once");
                    stopper.graceful();
                } else {
                    tracing::warn!(signal, "stopping at once");
                    stopper.immediate();
                    break;
                }
            }
        })?;
    Ok(SignalListener { handle, thread })
}
