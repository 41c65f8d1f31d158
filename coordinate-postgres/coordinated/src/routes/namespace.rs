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
    call.run(move |s| {
        let mut namespaces = s.coordinate().namespaces().map_err(store)?;
        namespaces.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(ok(&NamespaceList {
            namespaces: namespaces
                .iter()
                .map(|ns| NamespaceShort {
                    url: s.namespace_link(ns).url(),
                    name: ns.name().to_owned(),
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
    call.run(move |s| {
        let namespace = s.coordinate().namespace(&body.name).map_err(store)?;
        let repr = represent::namespace(s, &namespace);
        Ok(created(&repr.url.clone(), &repr))
    })
    .await
}

/// `GET /namespace/{ns}`: gets or makes it, as go does (through `ref`: that
/// namespace, even destroyed).
pub async fn get(call: StoreCall, Path(ns): Path<String>) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    call.run(move |s| {
        let namespace = s.namespace(&ns)?;
        Ok(ok(&represent::namespace(s, &namespace)))
    })
    .await
}

/// `DELETE /namespace/{ns}`: 204.
pub async fn delete(call: StoreCall, Path(ns): Path<String>) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    call.run(move |s| {
        s.namespace(&ns)?.destroy().map_err(store)?;
        Ok(no_content())
    })
    .await
}

/// `GET /namespace/{ns}/summary`.
pub async fn summary(call: StoreCall, Path(ns): Path<String>) -> Result<Response, ApiError> {
    let ns = name(&ns)?;
    call.run(move |s| {
        let summary = s.namespace(&ns)?.summarize().map_err(store)?;
        Ok(ok(&represent::summary(summary)))
    })
    .await
}
