//! `-backend http(s)://…`: serving another coordinated's store through the
//! Rust client, as go's coordinated can (credentials in the URL's userinfo
//! travel as HTTP Basic, as go's client sends them).

use std::sync::Arc;

use coordinate_api::Coordinate;
use coordinate_rest::RestCoordinate;

use crate::error::ServerError;

/// Connects to the remote coordinated (reads its root document).
pub fn open(url: &str) -> Result<Arc<dyn Coordinate>, ServerError> {
    let remote = RestCoordinate::new(url).map_err(ServerError::Store)?;
    Ok(Arc::new(remote))
}
