//! Adding units, or replacing units of the same name: the one statement
//! behind `add_work_unit`, batched adds and chaining.

use chrono::{DateTime, Utc};
use coordinate_api::data::encode_within;
use coordinate_api::NewWorkUnit;
use coordinate_api::Result;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Double, Integer, Nullable, Timestamptz};
use diesel::QueryableByName;

use crate::db::transaction::TxResult;
use crate::sql::unit::UPSERT_UNITS;

/// A unit's id and stored name, as the upsert and unit queries return.
#[derive(QueryableByName)]
pub(crate) struct UnitRow {
    #[diesel(sql_type = Integer)]
    pub(crate) id: i32,
    #[diesel(sql_type = Bytea)]
    pub(crate) name: Vec<u8>,
}

/// Adds units to a work spec, or replaces the data and meta of units of the
/// same name and clears their active attempts. One statement for any number
/// of units; the names must be distinct, and data over `max_data_bytes`
/// encoded is refused.
pub(crate) fn upsert_units(
    conn: &mut PgConnection,
    spec_id: i32,
    units: &[NewWorkUnit],
    max_data_bytes: usize,
) -> TxResult<Vec<UnitRow>> {
    let names: Vec<&[u8]> = units.iter().map(|u| u.name.as_bytes()).collect();
    let data = units
        .iter()
        .map(|u| encode_within(&u.data, max_data_bytes))
        .collect::<Result<Vec<_>>>()?;
    let priorities: Vec<f64> = units.iter().map(|u| u.meta.priority).collect();
    let not_before: Vec<Option<DateTime<Utc>>> = units.iter().map(|u| u.meta.not_before).collect();
    Ok(UPSERT_UNITS
        .prepare()
        .bind::<Integer, _>(spec_id)
        .bind::<Array<Bytea>, _>(names)
        .bind::<Array<Bytea>, _>(data)
        .bind::<Array<Double>, _>(priorities)
        .bind::<Array<Nullable<Timestamptz>>, _>(not_before)
        .load(conn)?)
}
