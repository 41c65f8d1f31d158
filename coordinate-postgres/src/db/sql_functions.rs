//! SQL functions the Diesel DSL calls, declared once for every caller.

use diesel::sql_types::{Bytea, Nullable};

diesel::define_sql_function! {
    /// SQL `COALESCE` of an attempt's data (NULL until it has its own) and
    /// the data to fall back on.
    fn coalesce(data: Nullable<Bytea>, fallback: Bytea) -> Bytea;
}
