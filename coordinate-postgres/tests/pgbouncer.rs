//! Through PgBouncer in transaction pooling mode: what goes wrong without
//! `transaction_pooling(true)`, and how waiting for work behaves with it.
//!
//! Not part of the ordinary test run (`test = false` in Cargo.toml): its
//! `DATABASE_URL` must go through PgBouncer, which `cargo xtask
//! conformance` starts for its PgBouncer lane, where it runs this file and
//! the conformance suite with the setting. Against a plain server the
//! first case fails, since nothing collides there.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::unique;
use coordinate_api::{Coordinate, Error, Wakeup};
use coordinate_postgres::test_support::database_url;
use coordinate_postgres::PostgresCoordinate;

/// Threads and rounds of the workload: enough that two client connections
/// meet on one server connection many times over.
const THREADS: usize = 4;
const ROUNDS: usize = 25;

/// Gets or creates namespaces and lists their work specs, from several
/// threads at once; returns the errors.
fn workload(coordinate: &PostgresCoordinate) -> Vec<Error> {
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..ROUNDS {
                    let result = coordinate
                        .namespace(&unique("pgbouncer"))
                        .and_then(|namespace| namespace.work_spec_names().map(|_| namespace))
                        .and_then(|namespace| namespace.destroy());
                    if let Err(error) = result {
                        errors.lock().unwrap().push(error);
                    }
                }
            });
        }
    });
    errors.into_inner().unwrap()
}

/// An error with its whole chain of causes, as `anyhow`'s `{:#}` shows it.
fn chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

#[test]
fn without_the_setting_named_statements_collide_and_with_it_they_do_not() {
    let plain = PostgresCoordinate::builder(&database_url())
        .pool_size(THREADS as u32)
        .build()
        .expect("building works: migrations use unnamed statements anyway");
    let errors = workload(&plain);
    assert!(
        errors
            .iter()
            .any(|e| chain(e).contains("prepared statement \"__diesel_stmt_")),
        "expected Diesel's named statements to collide behind PgBouncer; errors: {:?}",
        errors.iter().map(chain).collect::<Vec<_>>()
    );

    let pooled = PostgresCoordinate::builder(&database_url())
        .pool_size(THREADS as u32)
        .transaction_pooling(true)
        .build()
        .unwrap();
    let errors: Vec<String> = workload(&pooled).iter().map(chain).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// Counts the warnings that say `wait_for_work` polls.
struct PollingWarnings(Arc<AtomicUsize>);

/// Finds the message of an event.
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for PollingWarnings {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        if *event.metadata().level() == tracing::Level::WARN
            && message.0.contains("Wakeup::Polling")
        {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn without_a_listener_url_waits_poll_and_say_so_once() {
    let warnings = Arc::new(AtomicUsize::new(0));
    tracing::subscriber::set_global_default(PollingWarnings(warnings.clone()))
        .expect("the only subscriber of this test process");
    let coordinate = PostgresCoordinate::builder(&database_url())
        .pool_size(2)
        .transaction_pooling(true)
        .build()
        .unwrap();
    let namespaces = [
        coordinate.namespace(&unique("polling")).unwrap(),
        coordinate.namespace(&unique("polling")).unwrap(),
    ];
    for namespace in namespaces.iter().chain(&namespaces) {
        let wakeup = namespace.wait_for_work(Duration::from_millis(20)).unwrap();
        assert_eq!(wakeup, Wakeup::Polling);
    }
    assert_eq!(
        warnings.load(Ordering::SeqCst),
        1,
        "said once, not per wait"
    );
    for namespace in namespaces {
        namespace.destroy().unwrap();
    }
}
