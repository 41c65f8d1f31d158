//! The contract for backend authors: the rules every backend applies the
//! same way, so that the memory and PostgreSQL backends (and any other)
//! behave alike. Applications do not need this module; they use the traits
//! and value types at the crate root.
//!
//! - [`validate`]: what counts as a valid name, priority, time or batch,
//!   and the errors for the rest;
//! - [`lifecycle`]: which attempt call is allowed in which state, and what
//!   it changes (the table in its documentation);
//! - [`scheduler`]: choosing a work spec by priority and weight, batch
//!   sizes, retries used up, continuous units;
//! - [`chaining`]: reading a finished attempt's `output` into the next work
//!   spec's units;
//! - [`completion`]: checking batched completions and renewals entry by
//!   entry;
//! - [`work_spec_data`]: a work spec definition's metadata;
//! - [`random`]: where the scheduler's draws come from (seedable, so a
//!   failing draw can be repeated).
//!
//! `coordinate-conformance` holds the behaviour these rules add up to, as
//! one suite every backend runs.

pub mod chaining;
pub mod completion;
pub mod lifecycle;
pub mod random;
pub mod scheduler;
pub mod validate;
pub mod work_spec_data;
