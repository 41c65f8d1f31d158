//! The schema's embedded Diesel migrations, applying and reverting them,
//! and adopting databases that go-coordinate migrated.
//!
//! The first fifteen migrations mirror go-coordinate's, one for one, so a
//! database either tool built has the same tables. go-coordinate records
//! its migrations in `gorp_migrations` (through sql-migrate); when that
//! table lists one of them, the matching Diesel migration is recorded as
//! applied instead of run. The other way round, once our migrations have
//! run, `gorp_migrations` lists all fifteen, in the same transaction, so
//! that go-coordinate's `postgres.New()` finds nothing to do instead of
//! creating its tables a second time.
//!
//! Many processes may connect to a new database at once: migrations run in
//! one transaction holding a transaction-level advisory lock (never a
//! session-level one, which would not survive PgBouncer's transaction
//! pooling), so they apply exactly once and others wait, then find nothing
//! to do. go-coordinate does not take that lock: when it creates the same
//! objects at the same moment, our transaction fails on a duplicate and is
//! tried again, then adopts whatever go-coordinate committed meanwhile.

use std::error::Error as StdError;

use coordinate_api::{Error, Result};
use diesel::connection::CacheSize;
use diesel::migration::{Migration, MigrationConnection, MigrationSource};
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt, Bool, Text};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::db::connection::connect_once;

/// Every migration in `migrations/`, compiled into the crate.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Key of the advisory lock that serialises migrations ("coordina").
const LOCK_KEY: i64 = 0x636f_6f72_6469_6e61;

/// go-coordinate's migration ids (as in `gorp_migrations`) and the versions
/// of the Diesel migrations that do the same.
pub(crate) const GO_COORDINATE_MIGRATIONS: [(&str, &str); 15] = [
    ("20150927-core.sql", "20150927000000"),
    ("20151002-mingb.sql", "20151002000000"),
    ("20151006-work-unit-type.sql", "20151006000000"),
    ("20151013-index.sql", "20151013000000"),
    ("20151014-index.sql", "20151014000000"),
    ("20151019-worker-mode.sql", "20151019000000"),
    ("20151028-index.sql", "20151028000000"),
    ("20151216-work-spec-runtime.sql", "20151216000000"),
    ("20160104-not-before.sql", "20160104000000"),
    ("20160125-index.sql", "20160125000000"),
    ("20160217-attempt-spec.sql", "20160217000000"),
    ("20160328-index.sql", "20160328000000"),
    ("20160329-index.sql", "20160329000000"),
    ("20170316-index.sql", "20170316000000"),
    ("20170523-work-unit-max-retries.sql", "20170523000000"),
];

/// sql-migrate's bookkeeping table, column for column as its gorp table
/// map creates it (`id` text, not null, the primary key; `applied_at` a
/// nullable `timestamp with time zone`), so that sql-migrate cannot tell
/// it from its own.
const CREATE_GORP_MIGRATIONS: &str = "\
CREATE TABLE gorp_migrations (id text NOT NULL PRIMARY KEY, applied_at timestamp with time zone)";

/// Records go-coordinate's migrations `$1` as applied, keeping the time of
/// any already listed. The time is the server's: this is bookkeeping for
/// people and sql-migrate, not a timestamp our logic compares.
const RECORD_GO_COORDINATE: &str = "\
INSERT INTO gorp_migrations (id, applied_at) SELECT unnest($1::text[]), now()
ON CONFLICT (id) DO NOTHING";

/// Most times the migration transaction is tried when it keeps losing
/// races to go-coordinate, which may commit its fifteen migrations one by
/// one while we try.
const MAX_TRIES: u32 = 40;
/// Pause between two tries.
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

type Failure = Box<dyn StdError + Send + Sync>;

/// Brings the database at `conn` up to the current schema: adopts a
/// go-coordinate database, then applies pending migrations. Connecting a
/// [`PostgresCoordinate`](crate::PostgresCoordinate) does this too.
///
/// Errors: as [`PostgresCoordinate::new`](crate::PostgresCoordinate::new).
pub fn upgrade(conn: &str) -> Result<()> {
    apply(&mut connect_once(conn)?)
}

/// Turns off Diesel's named prepared statements on a connection that
/// migrates: it runs a handful of statements once, and named statements
/// break behind a transaction-pooling proxy (PgBouncer before 1.21).
fn unnamed_statements_only(conn: &mut PgConnection) {
    conn.set_prepared_statement_cache_size(CacheSize::Disabled);
}

/// Reverts every migration of this crate, newest first, leaving none of its
/// tables or types behind (and no migration bookkeeping, unless other
/// migrations share it). Data is lost.
///
/// Errors: as [`PostgresCoordinate::new`](crate::PostgresCoordinate::new).
pub fn drop(conn: &str) -> Result<()> {
    let mut conn = connect_once(conn)?;
    unnamed_statements_only(&mut conn);
    locked(&mut conn, |conn| {
        let applied = conn.applied_migrations()?;
        let mut ours = MIGRATIONS.migrations()?;
        ours.sort_by_key(|m| std::cmp::Reverse(m.name().version().to_string()));
        for migration in ours
            .iter()
            .filter(|m| applied.contains(&m.name().version()))
        {
            conn.revert_migration(migration.as_ref())?;
            tracing::info!(migration = %migration.name(), "reverted a migration");
        }
        forget_go_coordinate(conn)?;
        if !has_rows(
            conn,
            "SELECT EXISTS (SELECT 1 FROM __diesel_schema_migrations) AS found",
        )? {
            sql_query("DROP TABLE __diesel_schema_migrations").execute(conn)?;
        }
        Ok(())
    })
    .map_err(failure)
}

/// What connecting does about the schema; see
/// [`PostgresCoordinateBuilder::migrations`](crate::PostgresCoordinateBuilder::migrations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Migrations {
    /// Apply pending migrations (taking the migration lock only when there
    /// are any): the default.
    #[default]
    Apply,
    /// Change nothing; refuse to connect, naming the missing migrations,
    /// when the schema is behind this version of the crate. For roles that
    /// may not change the schema, and for fleets that should not all race
    /// for the migration lock.
    Check,
    /// Neither apply nor check: the caller vouches for the schema.
    Skip,
}

/// Brings the schema into the state `migrations` asks for, on an open
/// connection.
pub(crate) fn prepare_schema(conn: &mut PgConnection, migrations: Migrations) -> Result<()> {
    match migrations {
        Migrations::Apply => apply(conn),
        Migrations::Check => check(conn),
        Migrations::Skip => Ok(()),
    }
}

/// `Ok` when every migration of this crate is applied; else a schema error
/// naming the ones that are not. go-coordinate's bookkeeping is not
/// required: it only matters to go-coordinate, which keeps it itself.
fn check(conn: &mut PgConnection) -> Result<()> {
    unnamed_statements_only(conn);
    let missing = missing_migrations(conn).map_err(failure)?;
    if missing.is_empty() {
        return Ok(());
    }
    Err(crate::db::error::schema_behind(format!(
        "the database schema is behind this version: {} migration(s) not applied ({}); \
             run `coordinate migrate` (or `coordinate_postgres::upgrade`) as a role that may \
             change the schema",
        missing.len(),
        missing.join(", ")
    )))
}

/// The names of this crate's migrations the database has not applied, in
/// order.
fn missing_migrations(conn: &mut PgConnection) -> std::result::Result<Vec<String>, Failure> {
    let applied = applied_versions(conn)?;
    let mut ours: Vec<Box<dyn Migration<Pg>>> = MIGRATIONS.migrations()?;
    ours.sort_by_key(|m| m.name().version().to_string());
    Ok(ours
        .iter()
        .filter(|m| !applied.contains(&m.name().version().to_string()))
        .map(|m| m.name().to_string())
        .collect())
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

/// The versions Diesel's bookkeeping lists as applied (none without the
/// table). Read by hand: the harness's own `applied_migrations` first
/// creates its table if missing, which a role without CREATE may not do.
fn applied_versions(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    if !table_exists(conn, "__diesel_schema_migrations")? {
        return Ok(Vec::new());
    }
    Ok(sql_query("SELECT version FROM __diesel_schema_migrations")
        .load::<Version>(conn)?
        .into_iter()
        .map(|row| row.version)
        .collect())
}

/// Applies pending migrations on an open connection, and records
/// go-coordinate's.
pub(crate) fn apply(conn: &mut PgConnection) -> Result<()> {
    unnamed_statements_only(conn);
    // Cheap check first, so connecting to an up-to-date database takes no
    // lock and waits for nobody.
    let current = up_to_date(conn).map_err(failure)?;
    if current {
        return Ok(());
    }
    let mut tries = 0;
    loop {
        tries += 1;
        let outcome = locked(conn, |conn| {
            adopt_go_coordinate(conn)?;
            for version in conn.run_pending_migrations(MIGRATIONS)? {
                tracing::info!(%version, "applied a migration (commits with the rest)");
            }
            // Every migration of ours has run now, so go-coordinate's
            // fifteen are all in place.
            record_go_coordinate(conn)?;
            Ok(())
        });
        match outcome {
            Err(error) if tries < MAX_TRIES && lost_a_race(&error) => {
                tracing::debug!(tries, %error, "migrating lost a race to go-coordinate; trying again");
                std::thread::sleep(RETRY_PAUSE);
            }
            outcome => return outcome.map_err(failure),
        }
    }
}

/// Whether a migration failed because someone who does not take our lock
/// (go-coordinate) created the same object, or its bookkeeping, at the
/// same moment: a unique violation in the catalog (two `CREATE`s of one
/// name racing), "already exists" (the second `CREATE` after the first
/// committed), or a deadlock between the two. Trying again adopts what the
/// other side committed. diesel_migrations hands its errors over as text
/// only, so they are recognised by PostgreSQL's English messages, as
/// deadlocks are elsewhere; with another `lc_messages` the loser fails and
/// connecting again succeeds.
fn lost_a_race(error: &Failure) -> bool {
    const RACES: [&str; 4] = [
        "duplicate key value violates unique constraint",
        "already exists",
        "deadlock detected",
        "could not serialize",
    ];
    let text = error.to_string();
    RACES.iter().any(|race| text.contains(race))
}

/// Runs `work` in a READ COMMITTED transaction holding the migration lock.
/// READ COMMITTED matters: each statement after the lock sees what an
/// earlier holder committed.
fn locked(
    conn: &mut PgConnection,
    work: impl FnOnce(&mut PgConnection) -> std::result::Result<(), Failure>,
) -> std::result::Result<(), Failure> {
    conn.build_transaction().read_committed().run(|conn| {
        sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(LOCK_KEY)
            .execute(conn)?;
        work(conn)
    })
}

fn failure(error: Failure) -> Error {
    // PostgreSQL's text for SQLSTATE 42501 (`insufficient_privilege`); the
    // migration harness hands its errors over as text only.
    if error.to_string().contains("permission denied") {
        return crate::db::error::schema(
            format!(
                "this database role may not change the schema ({error}); \
                 migrate once as the database's owner (`coordinate migrate`), \
                 and connect with `Migrations::Check` elsewhere"
            )
            .into(),
        );
    }
    crate::db::error::schema(error)
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Bool)]
    found: bool,
}

fn has_rows(conn: &mut PgConnection, query: &'static str) -> QueryResult<bool> {
    Ok(sql_query(query).get_result::<Found>(conn)?.found)
}

fn table_exists(conn: &mut PgConnection, table: &str) -> QueryResult<bool> {
    Ok(sql_query("SELECT to_regclass($1) IS NOT NULL AS found")
        .bind::<Text, _>(table)
        .get_result::<Found>(conn)?
        .found)
}

/// Whether every migration of ours is recorded as applied, and all of
/// go-coordinate's in its bookkeeping (a database migrated before this
/// crate kept that bookkeeping lacks it).
fn up_to_date(conn: &mut PgConnection) -> std::result::Result<bool, Failure> {
    if !missing_migrations(conn)?.is_empty() {
        return Ok(false);
    }
    let recorded = go_coordinate_applied(conn)?;
    Ok(GO_COORDINATE_MIGRATIONS
        .iter()
        .all(|(id, _)| recorded.iter().any(|r| r == id)))
}

#[derive(QueryableByName)]
struct GorpId {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The go-coordinate migrations `gorp_migrations` lists, if it exists.
fn go_coordinate_applied(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    if !table_exists(conn, "gorp_migrations")? {
        return Ok(Vec::new());
    }
    let rows: Vec<GorpId> = sql_query("SELECT id FROM gorp_migrations").load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Records go-coordinate's applied migrations as applied Diesel migrations,
/// so they are not run again over existing tables.
fn adopt_go_coordinate(conn: &mut PgConnection) -> QueryResult<()> {
    let applied = go_coordinate_applied(conn)?;
    if applied.is_empty() {
        return Ok(());
    }
    conn.setup()?;
    tracing::info!(
        migrations = applied.len(),
        "adopting a database go-coordinate migrated"
    );
    for (id, version) in GO_COORDINATE_MIGRATIONS {
        if applied.iter().any(|a| a == id) {
            sql_query(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ($1) \
                 ON CONFLICT (version) DO NOTHING",
            )
            .bind::<Text, _>(version)
            .execute(conn)?;
        }
    }
    Ok(())
}

/// Lists all of go-coordinate's migrations in its bookkeeping, creating
/// the table if it is missing; ids already there keep their times.
fn record_go_coordinate(conn: &mut PgConnection) -> QueryResult<()> {
    if !table_exists(conn, "gorp_migrations")? {
        sql_query(CREATE_GORP_MIGRATIONS).execute(conn)?;
    }
    let ids: Vec<&str> = GO_COORDINATE_MIGRATIONS.iter().map(|(id, _)| *id).collect();
    sql_query(RECORD_GO_COORDINATE)
        .bind::<Array<Text>, _>(ids)
        .execute(conn)?;
    Ok(())
}

/// After reverting, makes go-coordinate's bookkeeping agree that its
/// migrations are gone too (dropping its table once empty).
fn forget_go_coordinate(conn: &mut PgConnection) -> QueryResult<()> {
    if go_coordinate_applied(conn)?.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = GO_COORDINATE_MIGRATIONS.iter().map(|(id, _)| *id).collect();
    sql_query("DELETE FROM gorp_migrations WHERE id = ANY($1)")
        .bind::<Array<Text>, _>(ids)
        .execute(conn)?;
    if !has_rows(
        conn,
        "SELECT EXISTS (SELECT 1 FROM gorp_migrations) AS found",
    )? {
        sql_query("DROP TABLE gorp_migrations").execute(conn)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_coordinate_migrations_map_onto_ours() {
        let ours: Vec<String> = MigrationSource::<Pg>::migrations(&MIGRATIONS)
            .unwrap()
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        for (id, version) in GO_COORDINATE_MIGRATIONS {
            assert!(ours.iter().any(|v| v == version), "{id}");
            assert_eq!(
                &id[..8],
                &version[..8],
                "{id} and {version} are the same day"
            );
        }
        // Plus this crate's own: the claim indexes, the partial work_unit_attempt,
        // the retention index.
        assert_eq!(ours.len(), GO_COORDINATE_MIGRATIONS.len() + 3);
    }
}
