//! Hand-written SQL that PostgreSQL prepares once per connection.
//!
//! Diesel's `sql_query` never caches its statements: every call parses and
//! plans the SQL again and costs an extra round trip to prepare it. The
//! claim and finish paths run a handful of such statements per unit, so
//! that overhead dominated their cost. [`prepared`] takes the same
//! `$1`-style SQL and binds but lets Diesel's statement cache keep the
//! prepared statement, keyed by the SQL text and bind types. Only use it
//! with SQL fixed at compile time (the statements in `sql`), or the cache
//! grows without bound.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// A cacheable SQL statement with its bound values; built by [`prepared`]
/// and run with Diesel's `execute`, `load` or `get_result`.
#[must_use = "a statement does nothing until it is executed or loaded"]
pub(crate) struct Prepared<'a> {
    pieces: Vec<Piece>,
    binds: Vec<Box<dyn QueryFragment<Pg> + 'a>>,
    cached: bool,
}

/// A run of literal SQL, or the place of the n-th bound value (0-based).
enum Piece {
    Sql(&'static str),
    Param(usize),
}

/// One bound value of SQL type `ST`.
struct Bind<ST, U> {
    value: U,
    sql_type: PhantomData<ST>,
}

impl<ST, U> QueryFragment<Pg> for Bind<ST, U>
where
    Pg: HasSqlType<ST>,
    U: ToSql<ST, Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<ST, U>(&self.value)
    }
}

/// Starts a statement from SQL whose parameters are written `$1`, `$2`, …
/// (a parameter may appear more than once); bind them in order with
/// [`Prepared::bind`].
pub(crate) fn prepared(sql: &'static str) -> Prepared<'static> {
    Prepared {
        pieces: split_parameters(sql),
        binds: Vec::new(),
        cached: true,
    }
}

impl<'a> Prepared<'a> {
    /// Plans the statement afresh on every call, for SQL whose best plan
    /// depends on the values bound. After five calls PostgreSQL may switch
    /// a cached statement to one plan made without the values, which for
    /// a `LIMIT $n` assumes thousands of rows and can pick a full scan.
    pub(crate) fn planned_each_time(mut self) -> Self {
        self.cached = false;
        self
    }

    /// Binds the next parameter as SQL type `ST`.
    pub(crate) fn bind<ST, U>(mut self, value: U) -> Self
    where
        Pg: HasSqlType<ST>,
        U: ToSql<ST, Pg> + 'a,
        ST: 'a,
    {
        self.binds.push(Box::new(Bind {
            value,
            sql_type: PhantomData::<ST>,
        }));
        self
    }
}

/// Splits SQL at its `$n` parameters: every `$` followed by digits is taken
/// for one, since this does not parse SQL. Our statements may hold string
/// literals and quoted names, but never a `$n` inside one, nor dollar
/// quoting or comments (`sql::tests` checks every statement).
fn split_parameters(sql: &'static str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let bytes = sql.as_bytes();
    let (mut start, mut at) = (0, 0);
    while at < bytes.len() {
        let digits = bytes[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if bytes[at] != b'$' || digits == 0 {
            at += 1;
            continue;
        }
        if start < at {
            pieces.push(Piece::Sql(&sql[start..at]));
        }
        let number: usize = sql[at + 1..at + 1 + digits]
            .parse()
            .expect("a parameter number fits in usize");
        assert!(number > 0, "SQL parameters are numbered from $1");
        pieces.push(Piece::Param(number - 1));
        at += 1 + digits;
        start = at;
    }
    if start < bytes.len() {
        pieces.push(Piece::Sql(&sql[start..]));
    }
    pieces
}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if !self.cached {
            out.unsafe_to_cache_prepared();
        }
        // Diesel numbers the placeholders itself as values are pushed, so
        // a parameter used twice is sent twice; the SQL text it produces is
        // the same on every call, which is what the cache keys on.
        for piece in &self.pieces {
            match piece {
                Piece::Sql(sql) => out.push_sql(sql),
                Piece::Param(index) => {
                    let bind = self.binds.get(*index).ok_or_else(|| {
                        diesel::result::Error::QueryBuilderError(
                            format!("SQL parameter ${} was not bound", index + 1).into(),
                        )
                    })?;
                    bind.walk_ast(out.reborrow())?;
                }
            }
        }
        Ok(())
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    // No type identifies the SQL, so the cache keys on its text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::database_url;
    use diesel::sql_types::{Integer, Text};
    use diesel::{Connection, PgConnection, QueryableByName};

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = Integer)]
        n: i32,
        #[diesel(sql_type = Text)]
        s: String,
    }

    #[test]
    fn parameters_split_where_they_stand() {
        let pieces = split_parameters("SELECT $1 + $12, '$' || $2$3");
        let shape: Vec<String> = pieces
            .iter()
            .map(|p| match p {
                Piece::Sql(s) => format!("[{s}]"),
                Piece::Param(n) => format!("#{n}"),
            })
            .collect();
        assert_eq!(
            shape.concat(),
            "[SELECT ]#0[ + ]#11[, '$' || ]#1#2",
            "a lone $ is text, digits after $ are a parameter"
        );
    }

    #[test]
    fn repeated_parameters_bind_the_same_value_and_are_cached() {
        let mut conn = PgConnection::establish(&database_url()).unwrap();
        let run = |conn: &mut PgConnection, n: i32| -> Row {
            prepared("SELECT ($1 + $1)::int4 AS n, $2 || $1::text AS s")
                .bind::<Integer, _>(n)
                .bind::<Text, _>("x")
                .get_result(conn)
                .unwrap()
        };
        assert_eq!(
            run(&mut conn, 4),
            Row {
                n: 8,
                s: "x4".into()
            }
        );
        assert_eq!(
            run(&mut conn, 5),
            Row {
                n: 10,
                s: "x5".into()
            }
        );
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
        }
        let cached: Count = diesel::sql_query(
            "SELECT count(*) AS count FROM pg_prepared_statements \
              WHERE statement LIKE 'SELECT ($1 + $2)::int4 AS n%'",
        )
        .get_result(&mut conn)
        .unwrap();
        assert_eq!(cached.count, 1, "one prepared statement served both calls");
    }

    #[test]
    fn a_missing_bind_is_an_error_not_a_panic() {
        let mut conn = PgConnection::establish(&database_url()).unwrap();
        let result = prepared("SELECT $1::int4 AS n")
            .execute(&mut conn)
            .map_err(|e| e.to_string());
        assert!(
            result
                .as_ref()
                .is_err_and(|e| e.contains("$1 was not bound")),
            "{result:?}"
        );
    }
}
