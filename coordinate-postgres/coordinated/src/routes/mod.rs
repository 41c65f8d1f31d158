//! go-coordinate's REST routes and our additions.

use axum::Router;

use crate::state::AppState;

/// The API's routes, without layers.
pub fn api() -> Router<AppState> {
    Router::new()
}
