//! Settings of `PostgresCoordinate::builder` take effect, and settings that
//! cannot work are refused before anything connects.

use std::time::Duration;

use coordinate_api::Error;
use coordinate_postgres::test_support::database_url;
use coordinate_postgres::PostgresCoordinate;

#[test]
fn the_data_size_limit_is_configurable() {
    let coordinate = PostgresCoordinate::builder(&database_url())
        .max_data_bytes(100)
        .build()
        .expect("connect");
    coordinate_conformance::data_limits::configured_size_limit_applies(&coordinate, 100);
}

#[test]
fn zero_settings_are_invalid_input() {
    let url = database_url();
    let refused = [
        PostgresCoordinate::builder(&url).max_data_bytes(0).build(),
        PostgresCoordinate::builder(&url).pool_size(0).build(),
        PostgresCoordinate::builder(&url)
            .connection_timeout(Duration::ZERO)
            .build(),
    ];
    for result in refused {
        assert!(
            matches!(result, Err(Error::InvalidInput { .. })),
            "{result:?}"
        );
    }
}
