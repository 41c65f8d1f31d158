//! Behaviour that must not depend on the plan PostgreSQL picks. The shared
//! test database's statistics drift with whatever ran before, so these run
//! conformance cases against a database of their own whose statistics are
//! set on purpose.

use std::sync::Arc;

use coordinate_api::{Coordinate, Data, MockClock, NewWorkUnit, WorkUnitMeta};
use coordinate_postgres::PostgresCoordinate;
use diesel::{sql_query, RunQueryDsl};

use crate::common::{spec, FreshDatabase};

/// A database whose `work_unit` pages hold only dead rows, as after a
/// queue was drained and before vacuum, analyzed in that state: the
/// planner then expects every table to stay empty.
fn drained_database() -> FreshDatabase {
    let database = FreshDatabase::new("coordinate_plans");
    let coordinate = PostgresCoordinate::builder(&database.url)
        .pool_size(1)
        .build()
        .expect("connect to the fresh database");
    let namespace = coordinate.namespace("drained").expect("namespace");
    let work_spec = namespace
        .set_work_spec(spec("spec", &[]))
        .expect("work spec");
    let units = (0..1_000)
        .map(|i| NewWorkUnit {
            name: format!("unit{i:04}"),
            data: Data::new(),
            meta: WorkUnitMeta::default(),
        })
        .collect();
    work_spec.add_work_units(units).expect("add units");
    namespace.destroy().expect("destroy namespace");
    sql_query("ANALYZE")
        .execute(&mut database.connection())
        .expect("ANALYZE");
    database
}

/// Expecting empty tables, the planner joins a batch's new attempts to
/// their units by walking `work_unit` in id order, which hands rows back
/// in insertion order; the claim must sort them anyway.
#[test]
fn batch_order_holds_after_the_queue_was_drained() {
    let database = drained_database();
    let url = database.url.clone();
    let backend = move |clock: Arc<MockClock>, seed: u64| -> Arc<dyn Coordinate> {
        Arc::new(
            PostgresCoordinate::builder(&url)
                .clock(clock)
                .scheduler_seed(seed)
                .pool_size(2)
                .build()
                .expect("connect to the fresh database"),
        )
    };
    coordinate_conformance::scheduling_units::batch_order_and_uniqueness(&backend);
    coordinate_conformance::scheduling_units::batch_order_ignores_insertion_order(&backend);
}
