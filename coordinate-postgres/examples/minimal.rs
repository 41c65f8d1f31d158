//! The smallest producer and consumer: queue three units, work them off.
//!
//! `cargo run -p coordinate-postgres --example minimal [-- <connection string>]`
//! runs in memory, or on PostgreSQL when given a connection string.

use std::sync::Arc;

use coordinate_api::{AttemptRequest, Coordinate, Data, Value, WorkUnitMeta};

fn main() -> anyhow::Result<()> {
    let coordinate: Arc<dyn Coordinate> = match std::env::args().nth(1) {
        Some(conn) => Arc::new(coordinate_postgres::PostgresCoordinate::new(&conn)?),
        None => Arc::new(coordinate_memory::MemoryCoordinate::new()),
    };
    let namespace = coordinate.namespace("minimal-example")?;

    // Producer: a work spec and its units.
    let mut definition = Data::new();
    definition.insert("name".into(), Value::Text("greet".into()));
    let spec = namespace.set_work_spec(definition)?;
    for name in ["ada", "grace", "linus"] {
        spec.add_work_unit(name, Data::new(), WorkUnitMeta::default())?;
    }

    // Consumer: ask for work until there is none left.
    let worker = namespace.worker("minimal-worker")?;
    loop {
        let attempts = worker.request_attempts(&AttemptRequest::default())?;
        if attempts.is_empty() {
            break;
        }
        for attempt in attempts {
            println!("hello, {}", attempt.work_unit().name());
            attempt.finish(None)?;
        }
    }
    namespace.destroy()?;
    Ok(())
}
