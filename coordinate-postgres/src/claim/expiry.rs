//! Expiring attempts whose lease ran out, one namespace at a time.
//!
//! Every namespace may run on its own clock (tests give each one a mock
//! clock), so expiry only ever looks at the namespace being worked on. It
//! is one statement, served by the `attempt_pending` index: its cost follows
//! the namespace's overdue attempts, not its history.
//! The statement is `sql::claim::EXPIRE_OVERDUE`.

use chrono::{DateTime, Utc};
use coordinate_api::Result;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Integer, Timestamptz};
use diesel::{QueryableByName, RunQueryDsl};

use crate::db::transaction::{with_retry, Isolation, Subject, TxResult};
use crate::sql::claim::EXPIRE_OVERDUE;

/// Runs `read` in one REPEATABLE READ transaction, after expiring the
/// namespace's overdue attempts as of `now`. Every call whose answer
/// depends on units' statuses goes through here (as in the memory
/// backend): once a lease that ran out has shown its unit as available,
/// the attempt is expired for good, and finishing it later is refused.
pub(crate) fn with_expiry<T>(
    subject: &(impl Subject + ?Sized),
    namespace_id: i32,
    now: DateTime<Utc>,
    mut read: impl FnMut(&mut PgConnection) -> TxResult<T>,
) -> Result<T> {
    with_retry(subject, Isolation::RepeatableRead, |conn| {
        expire_namespace(conn, namespace_id, now)?;
        read(conn)
    })
}

/// Expires the namespace's overdue pending attempts
/// ([`EXPIRE_OVERDUE`](crate::sql::claim::EXPIRE_OVERDUE)).
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
    let released: Released = EXPIRE_OVERDUE
        .prepare()
        .bind::<Integer, _>(namespace_id)
        .bind::<Timestamptz, _>(now)
        .get_result(conn)?;
    Ok(usize::try_from(released.count).unwrap_or(0))
}
