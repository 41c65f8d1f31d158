//! Testing your own code that uses coordinate, two ways: against the
//! memory backend (real behaviour, no database) and against `mockall`
//! mocks (for failures that are hard to provoke for real).
//!
//! `cargo test -p coordinate-memory --example testing` runs the tests;
//! `cargo run -p coordinate-memory --example testing` runs the code once.

use std::sync::Arc;

use coordinate_api::{AttemptRequest, Coordinate, Data, Result, Value, Worker};

/// The application code under test: work off every "resize" unit a worker
/// is offered, failing the ones without a `width`, and report how many
/// finished.
pub fn resize_all(worker: &dyn Worker) -> Result<usize> {
    let request = AttemptRequest {
        work_specs: vec!["resize".into()],
        ..AttemptRequest::default()
    };
    let mut finished = 0;
    loop {
        let attempts = worker.request_attempts(&request)?;
        if attempts.is_empty() {
            return Ok(finished);
        }
        for attempt in attempts {
            match attempt.work_unit().data()?.get("width") {
                Some(Value::Integer(_)) => {
                    attempt.finish(None)?;
                    finished += 1;
                }
                _ => {
                    let mut data = Data::new();
                    data.insert("traceback".into(), Value::Text("no width".into()));
                    attempt.fail(Some(data))?;
                }
            }
        }
    }
}

fn main() -> Result<()> {
    let coordinate: Arc<dyn Coordinate> = Arc::new(coordinate_memory::MemoryCoordinate::new());
    let namespace = coordinate.namespace("images")?;
    let mut definition = Data::new();
    definition.insert("name".into(), Value::Text("resize".into()));
    let spec = namespace.set_work_spec(definition)?;
    let mut data = Data::new();
    data.insert("width".into(), Value::Integer(640));
    spec.add_work_unit("cat.png", data, Default::default())?;
    println!("finished {}", resize_all(namespace.worker("w")?.as_ref())?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use coordinate_api::{BackendErrorKind, Error, MockWorker, WorkUnitMeta, WorkUnitStatus};

    /// Against the memory backend: the real thing, in microseconds.
    #[test]
    fn finishes_good_units_and_fails_bad_ones() {
        let coordinate = coordinate_memory::MemoryCoordinate::new();
        let namespace = coordinate.namespace("test").unwrap();
        let mut definition = Data::new();
        definition.insert("name".into(), Value::Text("resize".into()));
        let spec = namespace.set_work_spec(definition).unwrap();
        let mut good = Data::new();
        good.insert("width".into(), Value::Integer(100));
        spec.add_work_unit("good", good, WorkUnitMeta::default())
            .unwrap();
        spec.add_work_unit("bad", Data::new(), WorkUnitMeta::default())
            .unwrap();

        let worker = namespace.worker("test-worker").unwrap();
        assert_eq!(resize_all(worker.as_ref()).unwrap(), 1);
        let status = |name| spec.work_unit(name).unwrap().status().unwrap();
        assert_eq!(status("good"), WorkUnitStatus::Finished);
        assert_eq!(status("bad"), WorkUnitStatus::Failed);
    }

    /// Against a mock: what happens when the store is unreachable.
    #[test]
    fn passes_on_a_lost_database() {
        let mut worker = MockWorker::new();
        worker.expect_request_attempts().times(1).returning(|_| {
            Err(Error::backend(
                BackendErrorKind::Unavailable,
                std::io::Error::other("connection reset"),
            ))
        });
        let error = resize_all(&worker).unwrap_err();
        assert!(error.is_transient(), "{error:?}");
    }
}
