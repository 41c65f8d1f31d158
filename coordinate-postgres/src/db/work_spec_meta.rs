//! A work spec's definition and metadata columns: checking and encoding a
//! definition, writing it with its derived metadata, and reading the
//! columns back as `WorkSpecMeta`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::backend::work_spec_data::extract_work_spec_meta;
use coordinate_api::data::encode_within;
use coordinate_api::{Data, Result, WorkSpecMeta};
use diesel::pg::data_types::PgInterval;
use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::db::transaction::TxResult;
use crate::schema::work_spec;

/// The metadata columns of `work_spec`, without counts.
#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = work_spec)]
pub(crate) struct MetaRow {
    priority: i32,
    weight: i32,
    paused: bool,
    continuous: bool,
    can_be_continuous: bool,
    min_memory_gb: f64,
    interval: PgInterval,
    next_continuous: Option<DateTime<Utc>>,
    max_running: i32,
    max_attempts_returned: i32,
    max_retries: i32,
    next_work_spec_name: String,
    runtime: String,
}

impl MetaRow {
    /// The metadata with the given counts.
    pub(crate) fn into_meta(self, available_count: usize, pending_count: usize) -> WorkSpecMeta {
        WorkSpecMeta {
            priority: self.priority,
            weight: self.weight,
            paused: self.paused,
            continuous: self.continuous,
            can_be_continuous: self.can_be_continuous,
            min_memory_gb: self.min_memory_gb,
            interval: interval_from_sql(self.interval),
            next_continuous: self.next_continuous,
            max_running: self.max_running,
            max_attempts_returned: self.max_attempts_returned,
            max_retries: self.max_retries,
            next_work_spec_name: self.next_work_spec_name,
            available_count,
            pending_count,
            runtime: self.runtime,
        }
    }
}

/// A duration as a PostgreSQL interval; beyond ~292,000 years it saturates.
pub(crate) fn interval_to_sql(duration: Duration) -> PgInterval {
    PgInterval::from_microseconds(i64::try_from(duration.as_micros()).unwrap_or(i64::MAX))
}

/// An interval as a duration, counting a month as 30 days (go-coordinate
/// writes intervals as days and seconds, never months); negative is zero.
pub(crate) fn interval_from_sql(interval: PgInterval) -> Duration {
    const DAY: i128 = 86_400_000_000;
    let micros = i128::from(interval.microseconds)
        + i128::from(interval.days) * DAY
        + i128::from(interval.months) * 30 * DAY;
    Duration::from_micros(u64::try_from(micros.max(0)).unwrap_or(u64::MAX))
}

/// The columns a definition sets, as a tuple of assignments for `insert`
/// values and `update` changesets alike (the next-continuous time aside).
macro_rules! definition_columns {
    ($definition:expr) => {{
        let d = $definition;
        let m = &d.meta;
        (
            work_spec::data.eq(&d.bytes),
            work_spec::priority.eq(m.priority),
            work_spec::weight.eq(m.weight),
            work_spec::paused.eq(m.paused),
            work_spec::continuous.eq(m.continuous),
            work_spec::can_be_continuous.eq(m.can_be_continuous),
            work_spec::min_memory_gb.eq(m.min_memory_gb),
            work_spec::interval.eq(interval_to_sql(m.interval)),
            work_spec::max_running.eq(m.max_running),
            work_spec::max_attempts_returned.eq(m.max_attempts_returned),
            work_spec::max_retries.eq(m.max_retries),
            work_spec::next_work_spec_name.eq(&m.next_work_spec_name),
            work_spec::runtime.eq(&m.runtime),
        )
    }};
}

/// A definition checked, encoded and split into name and metadata.
pub(crate) struct Definition {
    pub(crate) name: String,
    meta: WorkSpecMeta,
    bytes: Vec<u8>,
}

impl Definition {
    /// Checks and encodes a definition (at most `max_bytes` encoded);
    /// errors as `set_work_spec`.
    pub(crate) fn new(data: &Data, max_bytes: usize) -> Result<Self> {
        // Text with a NUL character (which text columns cannot hold) is
        // refused here, as by the memory backend.
        let (name, meta) = extract_work_spec_meta(data)?;
        Ok(Definition {
            name,
            meta,
            bytes: encode_within(data, max_bytes)?,
        })
    }

    /// Creates the work spec called by the definition's name in
    /// `namespace_id`, or replaces the definition and derived metadata of
    /// the one already there (keeping a next-continuous time that is still
    /// in the future), and returns its id.
    ///
    /// One statement at READ COMMITTED: writers of the same spec queue on
    /// its row and each sees the previous one's write. Read-then-write at
    /// REPEATABLE READ made every writer but the first fail with a
    /// serialization error, and under steady contention the retries ran out.
    pub(crate) fn upsert(
        &self,
        conn: &mut PgConnection,
        namespace_id: i32,
        now: DateTime<Utc>,
    ) -> TxResult<i32> {
        let m = &self.meta;
        Ok(diesel::insert_into(work_spec::table)
            .values((
                work_spec::namespace_id.eq(namespace_id),
                work_spec::name.eq(&self.name),
                work_spec::next_continuous.eq(m.next_continuous),
                work_spec::next_work_spec_preempts.eq(false),
                definition_columns!(self),
            ))
            .on_conflict((work_spec::namespace_id, work_spec::name))
            .do_update()
            .set((
                definition_columns!(self),
                work_spec::next_continuous.eq(future_next_continuous(now)),
            ))
            .returning(work_spec::id)
            .get_result(conn)?)
    }

    /// Writes the definition and derived metadata to work spec `id` like
    /// [`Definition::upsert`], in one statement; returns the rows changed
    /// (0: the spec is gone).
    pub(crate) fn store(
        &self,
        conn: &mut PgConnection,
        id: i32,
        now: DateTime<Utc>,
    ) -> TxResult<usize> {
        Ok(diesel::update(work_spec::table.find(id))
            .set((
                definition_columns!(self),
                work_spec::next_continuous.eq(future_next_continuous(now)),
            ))
            .execute(conn)?)
    }
}

/// The stored next-continuous time if it is after `now`, else NULL: what a
/// new definition keeps of it.
fn future_next_continuous(
    now: DateTime<Utc>,
) -> diesel::dsl::case_when<
    diesel::dsl::Gt<work_spec::next_continuous, DateTime<Utc>>,
    work_spec::next_continuous,
    diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
> {
    diesel::dsl::case_when(
        work_spec::next_continuous.gt(now),
        work_spec::next_continuous,
    )
}
