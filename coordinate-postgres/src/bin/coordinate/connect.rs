//! Reaching the database and the objects a verb names, refusing names
//! that do not exist instead of creating them (the library's `namespace`
//! and `worker` calls get or create).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use coordinate_api::{Coordinate, Namespace, WorkSpec, Worker};
use coordinate_postgres::{Migrations, PostgresCoordinate};
use coordinate_rest::RestCoordinate;

use crate::{Global, UsageError};

/// How long a verb waits for a connection before it gives up.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection string: `-d`, else `DATABASE_URL` (clap reads both), else
/// the empty string, which leaves everything to libpq's `PG*` variables.
pub fn conn_string(global: &Global) -> &str {
    global.database_url.as_deref().unwrap_or("")
}

/// Whether the connection string names a `coordinated` server rather than
/// a database.
pub fn is_server(conn: &str) -> bool {
    conn.starts_with("http://") || conn.starts_with("https://")
}

/// A coordinate for one command. For a database: a small pool, no listener
/// (no verb waits for work), and a schema check instead of a migration: a
/// verb run by a role that may not change the schema works on a current
/// schema, and a schema that is behind is named as such (`migrate` changes
/// it, through the library's `upgrade`). For an `http(s)://` URL: the
/// server's REST API, with a token from the URL's password if it has one.
/// The library's errors already hold no password.
pub fn coordinate(global: &Global) -> Result<Arc<dyn Coordinate>> {
    let conn = conn_string(global);
    if is_server(conn) {
        let coordinate = RestCoordinate::builder(conn)
            .timeout(CONNECTION_TIMEOUT)
            .build()
            .context("reaching the coordinated server")?;
        return Ok(Arc::new(coordinate));
    }
    let coordinate = PostgresCoordinate::builder(conn)
        .pool_size(2)
        .connection_timeout(CONNECTION_TIMEOUT)
        .notifications(false)
        .transaction_pooling(global.transaction_pooling)
        .migrations(Migrations::Check)
        .build()
        .context("connecting to the database")?;
    Ok(Arc::new(coordinate))
}

/// The `-n` name, or a usage error for verbs that need one.
pub fn namespace_name(global: &Global) -> Result<&str> {
    match global.namespace.as_deref() {
        Some(name) => Ok(name),
        None => bail!(UsageError(
            "this command needs a namespace: -n/--namespace NAME".into()
        )),
    }
}

/// The namespace `-n` names, which must exist.
pub fn namespace(coordinate: &dyn Coordinate, global: &Global) -> Result<Arc<dyn Namespace>> {
    let name = namespace_name(global)?;
    coordinate
        .namespaces()?
        .into_iter()
        .find(|ns| ns.name() == name)
        .with_context(|| format!("no namespace {name:?} (`coordinate namespaces` lists them)"))
}

/// The work spec `name` of the namespace `-n` names. The library's error
/// for a missing spec names it.
pub fn work_spec(global: &Global, name: &str) -> Result<(Arc<dyn Namespace>, Arc<dyn WorkSpec>)> {
    let coordinate = coordinate(global)?;
    let namespace = namespace(coordinate.as_ref(), global)?;
    let spec = namespace.work_spec(name)?;
    Ok((namespace, spec))
}

/// The existing worker `name`.
pub fn worker(namespace: &dyn Namespace, name: &str) -> Result<Arc<dyn Worker>> {
    namespace
        .workers()?
        .into_iter()
        .find(|w| w.name() == name)
        .with_context(|| {
            format!(
                "no worker {name:?} in namespace {:?} (`coordinate workers --all` lists them)",
                namespace.name()
            )
        })
}
