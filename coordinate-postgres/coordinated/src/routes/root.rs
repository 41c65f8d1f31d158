//! `/` (the root document of URL templates) and `/summary`.

use axum::response::Response;
use coordinate_rest::wire::shapes::RootData;

use super::represent;
use super::support::{ok, store};
use crate::error::ApiError;
use crate::store::StoreCall;

/// `GET /`: where everything is.
pub async fn root(call: StoreCall) -> Result<Response, ApiError> {
    // Answered without the store, but through the same checks (test
    // clock headers) as every route.
    let urls = call.urls();
    Ok(ok(&RootData {
        url: urls.root(),
        summary_url: urls.summary(),
        namespaces_url: urls.namespaces(),
        namespace_url: urls.namespace_template(),
    }))
}

/// `GET /summary`: every namespace's counts.
pub async fn summary(call: StoreCall) -> Result<Response, ApiError> {
    call.run(|s| {
        Ok(ok(&represent::summary(
            s.coordinate().summarize().map_err(store)?,
        )))
    })
    .await
}
