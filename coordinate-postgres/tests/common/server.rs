//! A private PostgreSQL server for tests that need settings the shared test
//! database cannot have (TLS, its own `pg_hba.conf`): a
//! [`throwaway_postgres::Cluster`], plus what a test does to it with
//! Diesel. Every failure panics with the reason: a test that needs this
//! server must not pass without it.

use std::time::{Duration, Instant};

use diesel::dsl::sql;
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::{sql_query, Connection, RunQueryDsl};
use throwaway_postgres::Cluster;

/// A superuser connection over the socket (no password, no TLS).
pub fn admin(cluster: &Cluster) -> PgConnection {
    PgConnection::establish(&cluster.socket_conninfo("postgres"))
        .unwrap_or_else(|e| panic!("admin connection: {e}"))
}

/// Changes a reloadable setting and waits until new sessions see it.
pub fn reconfigure(cluster: &Cluster, name: &str, value: &str) {
    let mut conn = admin(cluster);
    sql_query(format!("ALTER SYSTEM SET {name} = '{value}'"))
        .execute(&mut conn)
        .expect("ALTER SYSTEM");
    sql_query("SELECT pg_reload_conf()")
        .execute(&mut conn)
        .expect("reloading the configuration");
    // The postmaster reloads on its own time; each new session starts
    // from the postmaster's settings.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now: String = diesel::select(sql::<Text>(&format!("current_setting('{name}')")))
            .get_result(&mut admin(cluster))
            .expect("reading the setting");
        if now == value {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} is still {now} after the reload"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
