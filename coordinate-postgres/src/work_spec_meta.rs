//! A work spec's definition and metadata columns: checking and encoding a
//! definition, writing it with its derived metadata, and reading the
//! columns back as `WorkSpecMeta`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::data::encode;
use coordinate_api::work_spec_data::extract_work_spec_meta;
use coordinate_api::{Data, Error, Result, WorkSpecMeta};
use diesel::pg::data_types::PgInterval;
use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::schema::work_spec;
use crate::transaction::TxResult;

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

/// Text columns cannot hold NUL; say so instead of failing in the driver.
fn check_text(what: &'static str, text: &str) -> Result<()> {
    if text.contains('\0') {
        return Err(Error::invalid(what, "must not contain a NUL character"));
    }
    Ok(())
}

/// A definition checked, encoded and split into name and metadata.
pub(crate) struct Definition {
    pub(crate) name: String,
    meta: WorkSpecMeta,
    bytes: Vec<u8>,
}

impl Definition {
    pub(crate) fn new(data: &Data) -> Result<Self> {
        let (name, meta) = extract_work_spec_meta(data)?;
        check_text("then", &meta.next_work_spec_name)?;
        check_text("runtime", &meta.runtime)?;
        Ok(Definition {
            name,
            meta,
            bytes: encode(data)?,
        })
    }

    /// Writes definition and derived metadata to an existing row, keeping a
    /// next-continuous time that is still in the future.
    pub(crate) fn store(
        &self,
        conn: &mut PgConnection,
        id: i32,
        now: DateTime<Utc>,
    ) -> TxResult<usize> {
        let kept: Option<Option<DateTime<Utc>>> = work_spec::table
            .find(id)
            .select(work_spec::next_continuous)
            .for_no_key_update()
            .first(conn)
            .optional()?;
        let Some(kept) = kept else { return Ok(0) };
        let next_continuous = kept.filter(|next| *next > now);
        let m = &self.meta;
        Ok(diesel::update(work_spec::table.find(id))
            .set((
                work_spec::data.eq(&self.bytes),
                work_spec::priority.eq(m.priority),
                work_spec::weight.eq(m.weight),
                work_spec::paused.eq(m.paused),
                work_spec::continuous.eq(m.continuous),
                work_spec::can_be_continuous.eq(m.can_be_continuous),
                work_spec::min_memory_gb.eq(m.min_memory_gb),
                work_spec::interval.eq(interval_to_sql(m.interval)),
                work_spec::next_continuous.eq(next_continuous),
                work_spec::max_running.eq(m.max_running),
                work_spec::max_attempts_returned.eq(m.max_attempts_returned),
                work_spec::max_retries.eq(m.max_retries),
                work_spec::next_work_spec_name.eq(&m.next_work_spec_name),
                work_spec::runtime.eq(&m.runtime),
            ))
            .execute(conn)?)
    }

    /// Inserts a new row; `None` when a concurrent insert won the name.
    pub(crate) fn insert(
        &self,
        conn: &mut PgConnection,
        namespace_id: i32,
    ) -> TxResult<Option<i32>> {
        let m = &self.meta;
        Ok(diesel::insert_into(work_spec::table)
            .values((
                work_spec::namespace_id.eq(namespace_id),
                work_spec::name.eq(&self.name),
                work_spec::data.eq(&self.bytes),
                work_spec::priority.eq(m.priority),
                work_spec::weight.eq(m.weight),
                work_spec::paused.eq(m.paused),
                work_spec::continuous.eq(m.continuous),
                work_spec::can_be_continuous.eq(m.can_be_continuous),
                work_spec::min_memory_gb.eq(m.min_memory_gb),
                work_spec::interval.eq(interval_to_sql(m.interval)),
                work_spec::next_continuous.eq(m.next_continuous),
                work_spec::max_running.eq(m.max_running),
                work_spec::max_attempts_returned.eq(m.max_attempts_returned),
                work_spec::max_retries.eq(m.max_retries),
                work_spec::next_work_spec_name.eq(&m.next_work_spec_name),
                work_spec::next_work_spec_preempts.eq(false),
                work_spec::runtime.eq(&m.runtime),
            ))
            .on_conflict_do_nothing()
            .returning(work_spec::id)
            .get_result(conn)
            .optional()?)
    }
}
