//! Expiring attempts whose lease ran out, one namespace at a time.
//!
//! Every namespace may run on its own clock (tests give each one a mock
//! clock), so expiry only ever looks at the namespace being worked on. It
//! is one statement, served by the `attempt_pending` index: its cost follows
//! the namespace's overdue attempts, not its history.
//!
//! The namespace's work specs are given as an array (`= ANY (ARRAY(…))`)
//! rather than `IN (SELECT …)` so that both columns of `attempt_pending`
//! bound the index scan. With `IN`, PostgreSQL may scan the index by
//! expiration time alone and join the work specs afterwards, reading the
//! overdue attempts of every namespace (and namespaces can run on clocks
//! far apart).

use crate::prepared::prepared;
use chrono::{DateTime, Utc};
use coordinate_api::Result;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Integer, Timestamptz};
use diesel::{QueryableByName, RunQueryDsl};

use crate::coordinate::Shared;
use crate::transaction::{with_retry, Isolation, TxResult};

/// Runs `read` in one REPEATABLE READ transaction, after expiring the
/// namespace's overdue attempts as of `now`. Every call whose answer
/// depends on units' statuses goes through here (as in the memory
/// backend): once a lease that ran out has shown its unit as available,
/// the attempt is expired for good, and finishing it later is refused.
pub(crate) fn with_expiry<T>(
    shared: &Shared,
    namespace_id: i32,
    now: DateTime<Utc>,
    mut read: impl FnMut(&mut PgConnection) -> TxResult<T>,
) -> Result<T> {
    with_retry(shared, Isolation::RepeatableRead, |conn| {
        expire_namespace(conn, namespace_id, now)?;
        read(conn)
    })
}

/// Two CTEs that expire namespace `$1`'s overdue pending attempts as of
/// `$2`: `overdue` marks them expired (ended `$2`, off their workers'
/// active lists), `released` frees their units and returns each freed
/// unit's `work_spec_id` and `not_before`, keeping the invariant that an
/// expired attempt is never a unit's active attempt; each freed unit also
/// notifies the namespace's waiters (PostgreSQL sends one notification per
/// transaction and payload, at commit; none when nothing was freed). A
/// statement that starts `WITH` these can go on to read, in the same round
/// trip.
macro_rules! expire_ctes {
    () => {
        "overdue AS ( \
             UPDATE attempt SET status = 'expired', end_time = $2, active = FALSE \
              WHERE status = 'pending' AND expiration_time < $2 \
                AND work_spec_id = ANY (ARRAY(SELECT id FROM work_spec WHERE namespace_id = $1)) \
             RETURNING id, work_unit_id), \
         released AS ( \
             UPDATE work_unit SET active_attempt_id = NULL \
               FROM overdue \
              WHERE work_unit.id = overdue.work_unit_id \
                AND work_unit.active_attempt_id = overdue.id \
             RETURNING work_unit.work_spec_id, work_unit.not_before, \
                       pg_notify('coordinate_work', $1::text) AS woke)"
    };
}
pub(crate) use expire_ctes;

/// Expires the namespace's overdue pending attempts ([`expire_ctes!`]).
/// Returns how many units were released.
pub(crate) fn expire_namespace(
    conn: &mut PgConnection,
    namespace_id: i32,
    now: DateTime<Utc>,
) -> TxResult<usize> {
    #[derive(QueryableByName)]
    struct Released {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let released: Released = prepared(concat!(
        "WITH ",
        expire_ctes!(),
        " SELECT count(*) AS count FROM released"
    ))
    .bind::<Integer, _>(namespace_id)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)?;
    Ok(usize::try_from(released.count).unwrap_or(0))
}
