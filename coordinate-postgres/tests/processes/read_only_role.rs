//! A database role that may read and write the tables but not change the
//! schema: the library and the `coordinate` command work through it on a
//! current schema, name the missing migrations on a schema that is behind,
//! and `coordinate migrate` says plainly that the role may not migrate.

use std::time::Duration;

use coordinate_api::{AttemptRequest, Coordinate, Data, WorkUnitMeta};
use coordinate_postgres::{Migrations, PostgresCoordinate};
use diesel::prelude::*;
use diesel::sql_query;

use crate::common::cli::{run_with, Run};
use crate::common::{spec, unique, FreshDatabase, Params};

/// A login role with only SELECT, INSERT, UPDATE and DELETE on the tables
/// (and USAGE on their id sequences, which inserting needs), dropped with
/// this value.
struct ReadWriteRole {
    name: String,
    password: String,
}

impl ReadWriteRole {
    fn new() -> ReadWriteRole {
        let role = ReadWriteRole {
            name: unique("rw_role"),
            password: unique("pw"),
        };
        let mut admin = PgConnection::establish(&Params::get().url(None)).expect("admin");
        sql_query(format!(
            "CREATE ROLE \"{}\" LOGIN PASSWORD '{}'",
            role.name, role.password
        ))
        .execute(&mut admin)
        .expect("create the role");
        role
    }

    /// Lets the role use `database`'s tables as they are now.
    fn grant_on(&self, database: &FreshDatabase) {
        let mut conn = database.connection();
        let name = &self.name;
        for grant in [
            format!(
                "GRANT CONNECT ON DATABASE \"{}\" TO \"{name}\"",
                database.name
            ),
            format!("GRANT USAGE ON SCHEMA public TO \"{name}\""),
            format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{name}\""
            ),
            format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \"{name}\""),
        ] {
            sql_query(grant).execute(&mut conn).expect("grant");
        }
    }

    /// The role's connection string for `database`.
    fn url(&self, database: &FreshDatabase) -> String {
        let params = Params::get();
        format!(
            "postgres://{}:{}@{}:{}/{}",
            self.name, self.password, params.host, params.port, database.name
        )
    }
}

impl Drop for ReadWriteRole {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&Params::get().url(None)) {
            let _ = sql_query(format!("DROP ROLE IF EXISTS \"{}\"", self.name)).execute(&mut admin);
        }
    }
}

/// Runs the command as the role: `coordinate -d URL ARGS`.
fn coordinate_as(url: &str, args: &[&str], stdin: &str) -> Run {
    run_with(args, stdin, &[("DATABASE_URL", url)])
}

#[test]
fn a_role_without_create_works_on_a_current_schema_and_is_told_when_it_is_behind() {
    let role = ReadWriteRole::new();

    // A current schema, migrated by the owner.
    let current = FreshDatabase::new("ro_current");
    coordinate_postgres::upgrade(&current.url).expect("the owner migrates");
    role.grant_on(&current);
    let url = role.url(&current);

    // The library, checking the schema, does everything a worker does.
    let coordinate = PostgresCoordinate::builder(&url)
        .migrations(Migrations::Check)
        .notifications(false)
        .build()
        .expect("a checking connection works on a current schema");
    let namespace = coordinate.namespace("ro").expect("namespace");
    let work = namespace.set_work_spec(spec("work", &[])).expect("spec");
    work.add_work_unit("u1", Data::new(), WorkUnitMeta::default())
        .expect("add");
    let worker = namespace.worker("w").expect("worker");
    let attempts = worker
        .request_attempts(&AttemptRequest {
            lifetime: Duration::from_secs(60),
            ..AttemptRequest::default()
        })
        .expect("claim");
    assert_eq!(attempts.len(), 1);
    attempts[0].finish(None).expect("finish");
    // The default (apply) also works: nothing is pending, so it takes no
    // lock and changes nothing.
    PostgresCoordinate::builder(&url)
        .notifications(false)
        .build()
        .expect("applying on a current schema needs no privilege");

    // The command: a reading and a changing verb.
    coordinate_as(
        &url,
        &["-n", "ro", "add", "work", "-"],
        "{\"name\": \"u2\"}\n",
    )
    .expect(0);
    let units = coordinate_as(&url, &["-n", "ro", "--json", "units", "work"], "").expect(0);
    assert!(units.stdout.contains("u2"), "{}", units.stdout);
    coordinate_as(&url, &["-n", "ro", "summary"], "").expect(0);

    // A schema that is behind: an empty database the role may use.
    let behind = FreshDatabase::new("ro_behind");
    role.grant_on(&behind);
    let url = role.url(&behind);
    let error = PostgresCoordinate::builder(&url)
        .migrations(Migrations::Check)
        .notifications(false)
        .build()
        .expect_err("a checking connection refuses a schema that is behind");
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    assert!(text.contains("schema is behind"), "{text}");
    assert!(
        text.contains("2015-09-27-000000_core"),
        "names the missing migrations: {text}"
    );
    let summary = coordinate_as(&url, &["-n", "ro", "summary"], "").expect(1);
    assert!(
        summary.stderr.contains("schema is behind"),
        "{}",
        summary.stderr
    );
    assert!(
        summary.stderr.contains("coordinate migrate"),
        "{}",
        summary.stderr
    );

    let migrate = coordinate_as(&url, &["migrate"], "").expect(1);
    assert!(
        migrate.stderr.contains("may not change the schema"),
        "{}",
        migrate.stderr
    );
    assert!(
        !migrate.stderr.contains(&role.password),
        "{}",
        migrate.stderr
    );
    // Nothing was created.
    let mut owner = behind.connection();
    let tables: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')",
    ))
    .get_result(&mut owner)
    .expect("count tables");
    assert_eq!(tables, 0, "the refused migration left no table behind");
}
