//! A builder for work spec definitions, the data
//! [`Namespace::set_work_spec`](crate::Namespace::set_work_spec) takes.
//!
//! ```
//! use std::time::Duration;
//! use coordinate_api::definition::WorkSpecDefinition;
//!
//! let data = WorkSpecDefinition::new("fetch")
//!     .then("parse")
//!     .priority(10)
//!     .max_retries(3)
//!     .interval(Duration::from_secs(60))
//!     .into_data();
//! let (name, meta) = coordinate_api::backend::work_spec_data::extract_work_spec_meta(&data).unwrap();
//! assert_eq!((name.as_str(), meta.priority), ("fetch", 10));
//! ```

use std::time::Duration;

use crate::data::{Data, Value};

/// A work spec definition under construction. Every setter writes the key
/// go-coordinate reads (see
/// [`extract_work_spec_meta`](crate::backend::work_spec_data::extract_work_spec_meta)).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkSpecDefinition {
    data: Data,
}

impl WorkSpecDefinition {
    /// A definition of the work spec called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        let mut data = Data::new();
        data.insert("name".into(), Value::Text(name.into()));
        WorkSpecDefinition { data }
    }

    /// Finished units' `output` becomes units of `next` (`then`).
    pub fn then(self, next: impl Into<String>) -> Self {
        self.set("then", Value::Text(next.into()))
    }

    /// Higher-priority specs are scheduled first (`priority`).
    pub fn priority(self, priority: i32) -> Self {
        self.set("priority", Value::Integer(priority.into()))
    }

    /// Share of workers among specs of equal priority (`weight`).
    pub fn weight(self, weight: i32) -> Self {
        self.set("weight", Value::Integer(weight.into()))
    }

    /// A unit with more attempts than this fails when next claimed
    /// (`max_retries`).
    pub fn max_retries(self, max_retries: u32) -> Self {
        self.set("max_retries", Value::Integer(max_retries.into()))
    }

    /// At most this many units of the spec pending at once (`max_running`).
    pub fn max_running(self, max_running: u32) -> Self {
        self.set("max_running", Value::Integer(max_running.into()))
    }

    /// At most this many units handed out per request (`max_getwork`).
    pub fn max_getwork(self, max_getwork: u32) -> Self {
        self.set("max_getwork", Value::Integer(max_getwork.into()))
    }

    /// Whether the scheduler makes units itself when none are queued
    /// (`continuous`).
    pub fn continuous(self, continuous: bool) -> Self {
        self.set("continuous", Value::Bool(continuous))
    }

    /// The least time between continuous units (`interval`, in seconds).
    pub fn interval(self, interval: Duration) -> Self {
        self.set("interval", Value::Float(interval.as_secs_f64()))
    }

    /// Only workers that offer this runtime get the spec's units
    /// (`runtime`).
    pub fn runtime(self, runtime: impl Into<String>) -> Self {
        self.set("runtime", Value::Text(runtime.into()))
    }

    /// Sets any other key of the definition.
    pub fn set(mut self, key: impl Into<String>, value: Value) -> Self {
        self.data.insert(key.into(), value);
        self
    }

    /// The definition as data.
    pub fn into_data(self) -> Data {
        self.data
    }
}

impl From<WorkSpecDefinition> for Data {
    fn from(definition: WorkSpecDefinition) -> Data {
        definition.into_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::work_spec_data::extract_work_spec_meta;

    #[test]
    fn every_setter_reaches_the_meta() {
        let data = WorkSpecDefinition::new("s")
            .then("t")
            .priority(-2)
            .weight(7)
            .max_retries(4)
            .max_running(5)
            .max_getwork(6)
            .continuous(true)
            .interval(Duration::from_millis(1500))
            .runtime("python")
            .into_data();
        let (name, meta) = extract_work_spec_meta(&data).unwrap();
        assert_eq!(name, "s");
        assert_eq!(meta.next_work_spec_name, "t");
        assert_eq!((meta.priority, meta.weight), (-2, 7));
        assert_eq!((meta.max_retries, meta.max_running), (4, 5));
        assert_eq!(meta.max_attempts_returned, 6);
        assert!(meta.continuous && meta.can_be_continuous);
        assert_eq!(meta.interval, Duration::from_millis(1500));
        assert_eq!(meta.runtime, "python");
    }
}
