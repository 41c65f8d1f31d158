//! A primary with a streaming standby, on throwaway servers of their own:
//! a standby is never written through, a connection string that lists
//! both finds the primary, and after the primary dies and the standby is
//! promoted the pool and the wake-up listener carry on there.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coordinate_api::{
    AttemptRequest, BackendErrorKind, Coordinate, Data, Error, Namespace, Wakeup, WorkUnitMeta,
};
use coordinate_postgres::PostgresCoordinate;
use throwaway_postgres::{read_write_url, Cluster};

use crate::common::{claim_and_finish, spec, unique};

/// A running primary and its standby, streaming synchronously.
struct Pair {
    primary: Cluster,
    standby: Cluster,
}

impl Pair {
    fn start() -> Pair {
        let mut primary = Cluster::init().unwrap_or_else(|e| panic!("initdb: {e}"));
        primary
            .start(&[("synchronous_standby_names", "*"), ("fsync", "off")])
            .unwrap_or_else(|e| panic!("starting the primary: {e}"));
        let standby = primary
            .start_standby(&[])
            .unwrap_or_else(|e| panic!("starting the standby: {e}"));
        primary
            .wait_for_standby(true, Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{e}"));
        Pair { primary, standby }
    }

    /// Waits until the standby has replayed `sql`'s answer `expected`.
    fn wait_on_standby(&self, sql: &str, expected: &str) {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let seen = self.standby.query("postgres", sql).unwrap_or_default();
            if seen.trim() == expected {
                return;
            }
            assert!(
                Instant::now() < until,
                "the standby never showed {sql:?} = {expected}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn connect(url: &str) -> PostgresCoordinate {
    PostgresCoordinate::builder(url)
        .pool_size(3)
        .connection_timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_else(|e| panic!("connecting: {e}"))
}

/// An error and every source under it, as one line.
fn chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Asserts that `result` failed as a server taking no writes does.
fn refused_as_read_only<T>(what: &str, result: coordinate_api::Result<T>) {
    let Err(error) = result else {
        panic!("{what} succeeded on a standby");
    };
    assert_eq!(
        error.backend_kind(),
        Some(BackendErrorKind::Unavailable),
        "{what}: {error:?}"
    );
    assert!(error.is_transient(), "{what}: {error:?}");
    assert!(
        chain(&error).contains("read-only"),
        "{what}: {}",
        chain(&error)
    );
}

#[test]
fn a_standby_is_never_written_through_and_a_list_of_both_finds_the_primary() {
    let pair = Pair::start();
    let name = unique("standby");
    let on_primary = connect(&pair.primary.url("postgres"));
    let namespace = on_primary.namespace(&name).unwrap();
    namespace.set_work_spec(spec("s", &[])).unwrap();
    pair.wait_on_standby(
        &format!("SELECT count(*) FROM work_spec s JOIN namespace n ON n.id = s.namespace_id WHERE n.name = '{name}'"),
        "1",
    );

    // Straight to the standby: reads answer, every write is refused as
    // transient, and readiness says no.
    let on_standby = connect(&pair.standby.url("postgres"));
    refused_as_read_only("ready", on_standby.ready());
    let seen = on_standby.namespaces().expect("reads work on a standby");
    let there = seen
        .iter()
        .find(|n| n.name() == name)
        .expect("the namespace replayed");
    let spec_there = there.work_spec("s").unwrap();
    refused_as_read_only(
        "add_work_unit",
        spec_there.add_work_unit("u", Data::new(), WorkUnitMeta::default()),
    );
    refused_as_read_only("a new worker", there.worker("w"));
    refused_as_read_only("a new namespace", on_standby.namespace(&unique("never")));
    assert!(
        namespace.work_spec("s").unwrap().work_unit("u").is_err(),
        "nothing reached the primary"
    );

    // Listing the standby first with target_session_attrs=read-write:
    // libpq passes it over and every write lands on the primary.
    let listed = connect(&read_write_url(&[&pair.standby, &pair.primary], "postgres"));
    listed.ready().expect("the list reaches a primary");
    let written = unique("listed");
    claim_and_finish(&listed, &written);
    let count = pair
        .primary
        .query(
            "postgres",
            &format!("SELECT count(*) FROM namespace WHERE name = '{written}'"),
        )
        .unwrap();
    assert_eq!(count.trim(), "1");
}

/// Starts a wait for work on `namespace`, then adds a unit; whether the
/// wait was woken before its timeout (a reconnecting listener also wakes
/// waiters once, which two wakes in a row rule out).
fn woken_by_an_add(namespace: &Arc<dyn Namespace>, unit: &str) -> bool {
    let waiter = {
        let namespace = namespace.clone();
        std::thread::spawn(move || namespace.wait_for_work(Duration::from_secs(3)))
    };
    std::thread::sleep(Duration::from_millis(200));
    let added = namespace
        .work_spec("s")
        .and_then(|s| s.add_work_unit(unit, Data::new(), WorkUnitMeta::default()));
    let woke = waiter.join().expect("the waiter");
    added.is_ok() && matches!(woke, Ok(Wakeup::Woken))
}

#[test]
fn after_the_primary_dies_the_pool_and_the_listener_move_to_the_promoted_standby() {
    let mut pair = Pair::start();
    let coordinate = connect(&read_write_url(&[&pair.primary, &pair.standby], "postgres"));
    let name = unique("failover");
    let namespace = claim_and_finish(&coordinate, &name);
    assert!(woken_by_an_add(&namespace, "before-1") && woken_by_an_add(&namespace, "before-2"));

    pair.primary
        .kill()
        .unwrap_or_else(|e| panic!("killing the primary: {e}"));
    // No server takes writes now: every call fails, and as transient.
    let error = coordinate.ready().expect_err("no primary is up");
    assert!(error.is_transient(), "{}", chain(&error));
    let worker = namespace.worker("w");
    assert!(
        worker.as_ref().is_err_and(Error::is_transient),
        "{:?}",
        worker.err()
    );

    pair.standby
        .promote()
        .unwrap_or_else(|e| panic!("promoting: {e}"));
    let promoted = Instant::now();
    // The dead connections fail one call each and are replaced.
    while coordinate.ready().is_err() {
        assert!(
            promoted.elapsed() < Duration::from_secs(30),
            "never ready again"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let attempts = namespace
        .worker("w")
        .and_then(|w| {
            w.request_attempts(&AttemptRequest {
                number_of_work_units: 10,
                ..AttemptRequest::default()
            })
        })
        .expect("a claim on the new primary");
    let mut names: Vec<String> = attempts
        .iter()
        .map(|a| a.work_unit().name().to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["before-1", "before-2"],
        "synchronous commits survived"
    );
    for attempt in attempts {
        attempt.finish(None).expect("finish on the new primary");
    }
    // The listener reconnects with backoff; within a few seconds an add
    // on the new primary wakes a waiter, twice in a row.
    let mut round = 0;
    loop {
        round += 1;
        let both = woken_by_an_add(&namespace, &format!("after-{round}-a"))
            && woken_by_an_add(&namespace, &format!("after-{round}-b"));
        if both {
            break;
        }
        assert!(
            promoted.elapsed() < Duration::from_secs(40),
            "the listener never came back"
        );
    }
}
