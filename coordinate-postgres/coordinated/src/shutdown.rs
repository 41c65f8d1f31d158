//! SIGTERM and SIGINT: stop accepting, let requests in flight finish within
//! the grace period, then stop.

use std::time::Duration;

use tokio::sync::watch;

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C).
pub async fn signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}

/// A stop that one task announces and others await.
#[derive(Clone)]
pub struct Stop {
    sender: watch::Sender<bool>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop {
            sender: watch::channel(false).0,
        }
    }
}

impl Stop {
    /// Announces the stop.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Resolves once the stop is announced.
    pub async fn wait(&self) {
        let mut receiver = self.sender.subscribe();
        // An error means the sender is gone, which cannot happen while
        // `self` holds it.
        let _ = receiver.wait_for(|stopped| *stopped).await;
    }
}

/// Runs `serving` until it ends by itself after a stop, or until `grace`
/// has passed since the stop; says which.
pub async fn drain<F>(serving: F, stop: Stop, grace: Duration) -> Drained
where
    F: std::future::Future<Output = ()>,
{
    tokio::pin!(serving);
    tokio::select! {
        () = &mut serving => return Drained::Finished,
        () = stop.wait() => {}
    }
    match tokio::time::timeout(grace, serving).await {
        Ok(()) => Drained::Finished,
        Err(_) => Drained::GraceExpired,
    }
}

/// How serving ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Every request in flight finished.
    Finished,
    /// Some were still running when the grace ran out.
    GraceExpired,
}
