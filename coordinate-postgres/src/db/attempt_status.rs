//! The database's own `attempt_status` enum, read and written as the API's
//! [`AttemptStatus`].

use coordinate_api::AttemptStatus;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};

use crate::schema::sql_types;

/// [`AttemptStatus`] as the `attempt_status` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql_types::AttemptStatus)]
pub(crate) struct DbStatus(pub(crate) AttemptStatus);

impl ToSql<sql_types::AttemptStatus, Pg> for DbStatus {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        std::io::Write::write_all(out, self.0.as_str().as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<sql_types::AttemptStatus, Pg> for DbStatus {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let name = std::str::from_utf8(value.as_bytes())?;
        AttemptStatus::parse(name)
            .map(DbStatus)
            .ok_or_else(|| format!("unknown attempt status {name:?}").into())
    }
}
