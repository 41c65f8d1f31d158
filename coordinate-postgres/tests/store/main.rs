//! The store: what the PostgreSQL backend keeps in its database and how it
//! behaves there. The schema against the migrations, the migrations
//! themselves and adopting go-coordinate's database, plans and history
//! retention at scale, many workers at once, the data a claim brings along, when a lease starts, waking
//! waiters, and the model check against the memory backend.
//!
//! One test binary for all of them (each file was one before): on a small
//! machine linking a binary per file dominated a rebuild of the tests.

// The helpers every test binary shares live beside this folder, not in it.
#[path = "../common/mod.rs"]
mod common;

mod adoption;
mod claimed_data;
mod concurrency;
mod in_transaction;
mod lease_start;
mod migrations;
mod model_check;
mod plans;
mod retention;
mod schema;
mod transactional_handler;
mod wakeup;
