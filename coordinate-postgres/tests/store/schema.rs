//! `src/schema.rs` says what `diesel print-schema` would print for a
//! database migrated with `migrations/`: a migration that changes a table
//! without a regenerated `schema.rs` fails here, with the difference shown.
//!
//! diesel_cli is not needed: the test reads the migrated catalog and
//! `schema.rs` into one description each (tables in name order, columns in
//! table order with their types, primary keys, enum types, `joinable!`
//! lines, the `allow_tables_to_appear_in_same_query!` list) and compares
//! them. Types are named as print-schema names them: the PostgreSQL type
//! name in CamelCase (`int4` is `Int4`, `attempt_status` is
//! `AttemptStatus`), inside `Nullable<…>` for a column that allows NULL.

use diesel::pg::PgConnection;
use diesel::sql_types::{Array, Bool, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl};

use crate::common::FreshDatabase;

/// The migration bookkeeping tables: Diesel's own, which print-schema
/// leaves out, and go-coordinate's, which `diesel.toml` filters out (no
/// code of ours reads it through Diesel's DSL).
const BOOKKEEPING_TABLES: [&str; 2] = ["__diesel_schema_migrations", "gorp_migrations"];

#[test]
fn schema_rs_matches_the_migrations() {
    let database = FreshDatabase::new("coordinate_schema");
    coordinate_postgres::upgrade(&database.url).unwrap();
    let mut conn = database.connection();
    let migrated = describe_catalog(&mut conn).lines();
    let written = describe_schema_rs(include_str!("../../src/schema.rs")).lines();
    let only = |these: &[String], those: &[String]| -> Vec<String> {
        these
            .iter()
            .filter(|l| !those.contains(l))
            .cloned()
            .collect()
    };
    let (stale, missing) = (only(&written, &migrated), only(&migrated, &written));
    assert!(
        stale.is_empty() && missing.is_empty(),
        "src/schema.rs does not match the migrations: regenerate it with \
         `diesel print-schema` (see diesel.toml).\n  only in schema.rs: {stale:#?}\n  \
         only in the migrated database: {missing:#?}"
    );
    assert_eq!(
        written, migrated,
        "src/schema.rs has the migrated tables, columns and keys in another order"
    );
}

/// A table as print-schema shows it.
struct Table {
    name: String,
    primary_key: Vec<String>,
    /// `column -> Type`, in the table's order.
    columns: Vec<String>,
}

/// Everything the comparison looks at, in print-schema's order.
struct Description {
    /// `(struct name, PostgreSQL name)` of each enum type, by name.
    enums: Vec<(String, String)>,
    tables: Vec<Table>,
    /// `child -> parent (column)`, sorted.
    joinables: Vec<String>,
    /// The tables of `allow_tables_to_appear_in_same_query!`.
    allowed_together: Vec<String>,
}

impl Description {
    /// One line per fact, each naming its table, so that a difference says
    /// where it is.
    fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .enums
            .iter()
            .map(|(name, sql)| format!("type {name} = {sql:?}"))
            .collect();
        for table in &self.tables {
            lines.push(format!(
                "table {} ({})",
                table.name,
                table.primary_key.join(", ")
            ));
            lines.extend(
                table
                    .columns
                    .iter()
                    .map(|column| format!("{}.{column}", table.name)),
            );
        }
        lines.extend(self.joinables.iter().map(|j| format!("joinable {j}")));
        lines.push(format!(
            "allowed in one query: {}",
            self.allowed_together.join(", ")
        ));
        lines
    }
}

/// print-schema's type name: `attempt_status` becomes `AttemptStatus`.
fn camel_case(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    type_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Bool)]
    primary: bool,
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
    #[diesel(sql_type = Text)]
    column: String,
}

#[derive(QueryableByName)]
struct EnumType {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The migrated database's tables, columns, keys and enum types.
fn describe_catalog(conn: &mut PgConnection) -> Description {
    let columns: Vec<Column> = sql_query(
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                t.typname::text AS type_name, NOT a.attnotnull AS nullable, \
                EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid \
                        AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS primary \
           FROM pg_class c \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           JOIN pg_attribute a ON a.attrelid = c.oid \
           JOIN pg_type t ON t.oid = a.atttypid \
          WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> ALL ($1) \
            AND a.attnum > 0 AND NOT a.attisdropped \
          ORDER BY c.relname COLLATE \"C\", a.attnum",
    )
    .bind::<Array<Text>, _>(BOOKKEEPING_TABLES.as_slice())
    .load(conn)
    .unwrap();
    let mut tables: Vec<Table> = Vec::new();
    for column in columns {
        if tables.last().is_none_or(|t| t.name != column.table_name) {
            tables.push(Table {
                name: column.table_name.clone(),
                primary_key: Vec::new(),
                columns: Vec::new(),
            });
        }
        let table = tables.last_mut().expect("pushed above");
        if column.primary {
            table.primary_key.push(column.column_name.clone());
        }
        let mut kind = camel_case(&column.type_name);
        if column.nullable {
            kind = format!("Nullable<{kind}>");
        }
        table
            .columns
            .push(format!("{} -> {kind}", column.column_name));
    }

    let keys: Vec<ForeignKey> = sql_query(
        "SELECT child.relname::text AS child, parent.relname::text AS parent, \
                a.attname::text AS column \
           FROM pg_constraint k \
           JOIN pg_class child ON child.oid = k.conrelid \
           JOIN pg_class parent ON parent.oid = k.confrelid \
           JOIN pg_namespace n ON n.oid = child.relnamespace \
           JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] \
          WHERE n.nspname = 'public' AND k.contype = 'f' AND cardinality(k.conkey) = 1",
    )
    .load(conn)
    .unwrap();
    // print-schema writes no `joinable!` for a table that references
    // itself, nor for two tables joined by more than one foreign key (in
    // either direction): the join would be ambiguous.
    let pair = |k: &ForeignKey| {
        let mut pair = [k.child.clone(), k.parent.clone()];
        pair.sort();
        pair
    };
    let mut joinables: Vec<String> = keys
        .iter()
        .filter(|k| k.child != k.parent)
        .filter(|k| keys.iter().filter(|other| pair(other) == pair(k)).count() == 1)
        .map(|k| format!("{} -> {} ({})", k.child, k.parent, k.column))
        .collect();
    joinables.sort();

    let enums: Vec<EnumType> = sql_query(
        "SELECT t.typname::text AS name FROM pg_type t \
           JOIN pg_namespace n ON n.oid = t.typnamespace \
          WHERE n.nspname = 'public' AND t.typtype = 'e' ORDER BY 1",
    )
    .load(conn)
    .unwrap();
    Description {
        enums: enums
            .into_iter()
            .map(|e| (camel_case(&e.name), e.name))
            .collect(),
        allowed_together: tables.iter().map(|t| t.name.clone()).collect(),
        tables,
        joinables,
    }
}

/// The same description, read from the text of `schema.rs`.
fn describe_schema_rs(text: &str) -> Description {
    let mut enums = Vec::new();
    let mut pending_enum: Option<String> = None;
    let mut tables = Vec::new();
    let mut joinables = Vec::new();
    let mut allowed_together = Vec::new();
    let mut table: Option<Table> = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#[diesel(postgres_type(name = \"") {
            pending_enum = rest.split('"').next().map(str::to_owned);
        } else if let Some(rest) = line.strip_prefix("pub struct ") {
            let name = rest.trim_end_matches(';').to_owned();
            let sql = pending_enum.take().expect("a type struct names its type");
            enums.push((name, sql));
        } else if let Some(rest) = line.strip_prefix("diesel::joinable!(") {
            joinables.push(rest.trim_end_matches(");").to_owned());
        } else if let Some(rest) =
            line.strip_prefix("diesel::allow_tables_to_appear_in_same_query!(")
        {
            allowed_together = rest
                .trim_end_matches(");")
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect();
        } else if let Some(current) = table.as_mut() {
            if line == "}" {
                tables.extend(table.take());
            } else if let Some(column) = line.strip_suffix(',') {
                current.columns.push(column.to_owned());
            }
        } else if let Some((name, key)) = line
            .strip_suffix(") {")
            .and_then(|head| head.split_once(" ("))
        {
            table = Some(Table {
                name: name.to_owned(),
                primary_key: key.split(',').map(|k| k.trim().to_owned()).collect(),
                columns: Vec::new(),
            });
        }
    }
    joinables.sort();
    Description {
        enums,
        tables,
        joinables,
        allowed_together,
    }
}
