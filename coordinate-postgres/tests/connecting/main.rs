//! Connecting: the builder's settings, connection strings and their
//! errors, failover across listed servers and to a promoted standby,
//! commits whose answer was lost, an exhausted pool, and TLS.
//!
//! One test binary for all of them (each file was one before): on a small
//! machine linking a binary per file dominated a rebuild of the tests.
//! `logs.rs` stays a binary of its own: it installs a process-wide log
//! subscriber, and the connections of these tests would log into it.

// The helpers every test binary shares live beside this folder, not in it.
#[path = "../common/mod.rs"]
mod common;

mod builder;
mod connection;
mod failover;
mod pool;
mod standby;
mod tls;
mod unknown_commit;
