//! `/namespace`, `/namespace/{ns}` and its summary.

use axum::extract::Path;
use axum::response::Response;
use coordinate_rest::wire::shapes::{NamespaceList, NamespaceShort};

use super::represent;
use super::support::{created, name, no_content, ok, store, JsonBody};
use crate::error::ApiError;
use crate::store::StoreCall;

/// `GET /namespace`: every namespace.
pub async fn list(call: StoreCall) -> Result<Response, ApiError> {
    let urls = call.urls();
    call.run(move |c| {
        let mut names: Vec<String> = c
            .namespaces()
            .map_err(store)?
            .iter()
            .map(|n| n.name().to_owned())
            .collect();
        names.sort();
        Ok(ok(&NamespaceList {
            namespaces: names
                .into_iter()
                .map(|name| NamespaceShort {
                    url: urls.namespace(&name),
                    name,
                })
                .collect(),
        }))
    })
    .await
}

/// `POST /namespace` `{"name": …}`: gets or makes it; 201 with its URL.
pub async fn create(
    call: StoreCall,
    JsonBody(body): JsonBody<NamespaceShort>,
) -> Result<Response, ApiError> {
    let urls = call.urls();
    call.run(move |c| {
        let namespace = c.namespace(&body.name).map_err(store)?;
        let repr = represent::namespace(&urls, namespace.name());
        Ok(created(&repr.url.clone(), &repr))
    })
    .await
}

/// `GET /namespace/{ns}`: gets or makes it, as go does.
pub async fn get(call: StoreCall, Path(ns): Path<String>) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    let urls = call.urls();
    call.run(move |c| {
        let namespace = c.namespace(&ns).map_err(store)?;
        Ok(ok(&represent::namespace(&urls, namespace.name())))
    })
    .await
}

/// `DELETE /namespace/{ns}`: 204.
pub async fn delete(call: StoreCall, Path(ns): Path<String>) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    call.run(move |c| {
        c.namespace(&ns).map_err(store)?.destroy().map_err(store)?;
        Ok(no_content())
    })
    .await
}

/// `GET /namespace/{ns}/summary`.
pub async fn summary(call: StoreCall, Path(ns): Path<String>) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    call.run(move |c| {
        let summary = c
            .namespace(&ns)
            .map_err(store)?
            .summarize()
            .map_err(store)?;
        Ok(ok(&represent::summary(summary)))
    })
    .await
}
