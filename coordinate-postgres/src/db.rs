//! The bottom layer: everything about talking to PostgreSQL that knows
//! nothing of namespaces, specs or units.
//!
//! Connection strings and their errors, the pool and the state every handle
//! shares, transactions with their retries, how driver errors become the
//! API's, the database's own types (the attempt status enum, the work spec
//! metadata columns), the migrations, and the listener behind
//! `wait_for_work`. It uses only [`crate::sql`] and [`crate::schema`] (the
//! layers below it); the claim path and the handles are built on it.

pub(crate) mod attempt_status;
pub(crate) mod connect_error;
pub(crate) mod connection;
pub(crate) mod error;
pub(crate) mod gone;
pub(crate) mod listener;
pub(crate) mod migrations;
pub(crate) mod pool_log;
pub(crate) mod session;
pub(crate) mod shared;
pub(crate) mod sql_functions;
pub(crate) mod transaction;
pub(crate) mod work_spec_meta;
