//! Connection strings that list several servers, as libpq allows for
//! failover: libpq tries them in order and, with
//! `target_session_attrs=read-write`, keeps the first that accepts writes.

use std::net::TcpListener;
use std::time::Duration;

use coordinate_postgres::PostgresCoordinate;

use crate::common::{claim_and_finish, unique, Params};

/// A loopback port nobody listens on: bound to find a free one, then closed,
/// so connecting there is refused at once, as with a server that is down.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    listener.local_addr().expect("its address").port()
}

/// A libpq `key=value` value, quoted.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Builds a coordinate on `conn` and uses it: writes work, so the server
/// it reached is the read-write one.
fn connects_and_writes(conn: &str) {
    let coordinate = PostgresCoordinate::builder(conn)
        .pool_size(2)
        .connection_timeout(Duration::from_secs(10))
        .build()
        .expect("libpq skips the closed port and connects to the second host");
    let namespace = claim_and_finish(&coordinate, &unique("failover"));
    namespace.destroy().unwrap();
}

#[test]
fn a_server_that_is_down_first_in_the_list_is_skipped() {
    let p = Params::get();
    let closed = closed_port();
    // `url` writes `host:port`, so this host list comes out as
    // `127.0.0.1:<closed>,<test server>:<its port>`.
    let url = Params {
        host: format!("127.0.0.1:{closed},{}", p.host),
        ..Params::get()
    }
    .url(None);
    connects_and_writes(&format!("{url}?target_session_attrs=read-write"));

    // The same in libpq's key=value form.
    connects_and_writes(&format!(
        "postgres:host=127.0.0.1,{} port={closed},{} user={} password={} dbname={} \
         target_session_attrs=read-write",
        p.host,
        p.port,
        quote(&p.user),
        quote(&p.password),
        quote(&p.dbname)
    ));
}
