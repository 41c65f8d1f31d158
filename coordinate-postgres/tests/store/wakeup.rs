//! `wait_for_work` across coordinates, after a lost listener connection,
//! and in the polling fallback. The cases both backends share are in the
//! conformance suite (`wakeup`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use coordinate_api::{Coordinate, Data, Namespace, Wakeup, WorkSpec, WorkUnitMeta};
use coordinate_conformance::wakeup::settle;
use coordinate_conformance::{definition, unique_name};
use coordinate_postgres::test_support::database_url;
use coordinate_postgres::PostgresCoordinate;
use diesel::{Connection, PgConnection};

use crate::common::{terminate_sessions, with_application_name};

/// Longer than any wake-up that works; shorter than a hung test.
const PATIENCE: Duration = Duration::from_secs(20);

/// Waits in `waiting` on another thread and adds a unit to `spec`; the
/// waiter must be woken, well before its timeout.
fn woken_by_add(waiting: &Arc<dyn Namespace>, spec: &Arc<dyn WorkSpec>, unit: &str) {
    settle(waiting);
    let waiter = {
        let namespace = waiting.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            (namespace.wait_for_work(PATIENCE), started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    spec.add_work_unit(unit, Data::new(), WorkUnitMeta::default())
        .expect("add");
    let (wakeup, waited) = waiter.join().expect("waiter thread");
    assert_eq!(wakeup.expect("wait_for_work"), Wakeup::Woken);
    assert!(waited < PATIENCE / 2, "woken only after {waited:?}");
}

#[test]
fn an_add_through_another_coordinate_wakes_a_waiter() {
    let url = database_url();
    let waiting = PostgresCoordinate::new(&url).expect("connect");
    let adding = PostgresCoordinate::new(&url).expect("connect");
    let name = unique_name("wake");
    let namespace = waiting.namespace(&name).expect("namespace");
    let spec = adding
        .namespace(&name)
        .expect("namespace")
        .set_work_spec(definition("spec", &[]))
        .expect("spec");
    woken_by_add(&namespace, &spec, "u");
    namespace.destroy().expect("destroy");
}

#[test]
fn the_listener_reconnects_after_losing_its_connection() {
    let url = database_url();
    let application = unique_name("listener");
    let coordinate = PostgresCoordinate::builder(&url)
        .listener_url(&with_application_name(&url, &application))
        .build()
        .expect("connect");
    let namespace = coordinate.namespace(&unique_name("wake")).expect("ns");
    let spec = namespace
        .set_work_spec(definition("spec", &[]))
        .expect("spec");
    woken_by_add(&namespace, &spec, "before");

    let mut admin = PgConnection::establish(&url).expect("admin connection");
    let terminated = terminate_sessions(&mut admin, &application);
    assert_eq!(terminated, 1, "the listener's session");
    // While it reconnects, waits end (woken by the new connection, or
    // timed out) without errors; then notifications arrive again.
    woken_by_add(&namespace, &spec, "after");
    namespace.destroy().expect("destroy");
}

/// A wait in polling mode lasts its timeout: not less, not much more.
fn polls_for_its_timeout(namespace: &Arc<dyn Namespace>) {
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let wakeup = namespace.wait_for_work(timeout).expect("wait_for_work");
    let waited = started.elapsed();
    assert_eq!(wakeup, Wakeup::Polling);
    assert!(waited >= timeout, "returned after {waited:?}");
    assert!(
        waited < timeout + Duration::from_millis(250),
        "returned after {waited:?}"
    );
}

#[test]
fn notifications_turned_off_poll() {
    let coordinate = PostgresCoordinate::builder(&database_url())
        .notifications(false)
        .build()
        .expect("connect");
    let namespace = coordinate.namespace(&unique_name("poll")).expect("ns");
    polls_for_its_timeout(&namespace);
    namespace.destroy().expect("destroy");
}

#[test]
fn a_listener_that_cannot_connect_falls_back_to_polling() {
    // Nothing listens on port 1; the password must stay out of any error.
    let coordinate = PostgresCoordinate::builder(&database_url())
        .listener_url("postgres://someone:hunter2@127.0.0.1:1/db")
        .build()
        .expect("connect");
    let namespace = coordinate.namespace(&unique_name("poll")).expect("ns");
    // The listener gives up after its probe time (about 2 s); meanwhile
    // waits time out.
    let started = Instant::now();
    loop {
        match namespace.wait_for_work(Duration::from_millis(200)) {
            Ok(Wakeup::TimedOut) => {}
            Ok(Wakeup::Polling) => break,
            other => panic!("before the fallback: {other:?}"),
        }
        assert!(started.elapsed() < PATIENCE, "never fell back to polling");
    }
    polls_for_its_timeout(&namespace);
    namespace.destroy().expect("destroy");
}
