//! `-backend http(s)://…`: serving another coordinated's store through the
//! Rust client, as go's coordinated can.

use std::sync::Arc;

use coordinate_api::Coordinate;

use crate::error::ServerError;

/// Opens the remote store.
pub fn open(_url: &str) -> Result<Arc<dyn Coordinate>, ServerError> {
    Err(ServerError::Usage(
        "-backend http(s)://…: proxying needs coordinate-rest's client, not built in yet"
            .to_owned(),
    ))
}
