//! The handles, one module per table as in go-coordinate's `postgres/`:
//! [`namespace`], [`work_spec`], [`work_unit`], [`worker`] and [`attempt`]
//! each hold a handle type and its API trait. They return one another, so
//! they import one another; nothing else in the crate loops.
//!
//! The other modules here add calls over those handles, each importing the
//! handles it extends and never the reverse (a handle calls them as
//! inherent methods): batched adds, batched completions and the finish
//! they share, attempt history, unit queries, retention, summaries, and the
//! one statement that adds or replaces units.

pub(crate) mod attempt;
pub(crate) mod batch_add;
pub(crate) mod completion;
pub(crate) mod finish;
pub(crate) mod history;
pub(crate) mod namespace;
pub(crate) mod prune;
pub(crate) mod summary;
pub(crate) mod unit_query;
pub(crate) mod upsert;
pub(crate) mod work_spec;
pub(crate) mod work_unit;
pub(crate) mod worker;
