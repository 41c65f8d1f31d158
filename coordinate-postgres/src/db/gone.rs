//! "Exists, else gone": how a handle tells a missing row from a deleted
//! object. Calls that find nothing look their object up once, at the end,
//! so the common case costs no extra statement.

use coordinate_api::Error;
use diesel::dsl::exists;
use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::db::transaction::TxResult;
use crate::schema::{namespace, work_spec, work_unit, worker};

/// An object a handle stands for, by id.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Object {
    Namespace(i32),
    WorkSpec(i32),
    WorkUnit(i32),
    Worker(i32),
}

impl Object {
    /// Whether the object's row still exists.
    pub(crate) fn exists(self, conn: &mut PgConnection) -> TxResult<bool> {
        let query = match self {
            Object::Namespace(id) => {
                diesel::select(exists(namespace::table.find(id))).get_result(conn)
            }
            Object::WorkSpec(id) => {
                diesel::select(exists(work_spec::table.find(id))).get_result(conn)
            }
            Object::WorkUnit(id) => {
                diesel::select(exists(work_unit::table.find(id))).get_result(conn)
            }
            Object::Worker(id) => diesel::select(exists(worker::table.find(id))).get_result(conn),
        };
        Ok(query?)
    }

    /// `Ok` when the object exists, else [`Error::Gone`].
    pub(crate) fn ensure(self, conn: &mut PgConnection) -> TxResult<()> {
        if self.exists(conn)? {
            Ok(())
        } else {
            // `with_retry` turns this into `Gone` naming the handle.
            Err(diesel::result::Error::NotFound.into())
        }
    }

    /// The rows a list call found; when there are none, [`Error::Gone`] if
    /// the object is gone (list calls on live objects may be empty).
    pub(crate) fn rows_or_gone<T>(self, conn: &mut PgConnection, rows: Vec<T>) -> TxResult<Vec<T>> {
        if rows.is_empty() {
            self.ensure(conn)?;
        }
        Ok(rows)
    }

    /// What a lookup found; else `missing` while the object exists (no
    /// such child), or [`Error::Gone`] when it does not.
    pub(crate) fn found_or<T>(
        self,
        conn: &mut PgConnection,
        found: Option<T>,
        missing: impl FnOnce() -> Error,
    ) -> TxResult<T> {
        match found {
            Some(found) => Ok(found),
            None => {
                self.ensure(conn)?;
                Err(missing().into())
            }
        }
    }
}

/// An update by id that changed nothing means the row is gone.
pub(crate) fn gone_if_zero(changed: usize) -> TxResult<()> {
    match changed {
        0 => Err(diesel::result::Error::NotFound.into()),
        _ => Ok(()),
    }
}
