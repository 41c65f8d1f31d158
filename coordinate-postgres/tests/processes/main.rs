//! Real processes against the test database: the `coordinate` command (the
//! verbs that read, and those that change things, also as a role that may
//! not change the schema), and worker processes of the runtime and the
//! pipeline example stopped from outside.
//!
//! One test binary for all of them (each file was one before): on a small
//! machine linking a binary per file dominated a rebuild of the tests.

// The helpers every test binary shares live beside this folder, not in it.
#[path = "../common/mod.rs"]
mod common;

mod cli;
mod cli_changes;
mod pipeline_stop;
mod read_only_role;
mod runtime_process;
