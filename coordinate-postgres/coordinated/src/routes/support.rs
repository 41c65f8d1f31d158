//! What every route shares: content negotiation, JSON bodies, names from
//! the path, work unit queries from the query string, answers in go's
//! 200/201/204 conventions, and store errors.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coordinate_api::WorkUnitQuery;
use coordinate_rest::wire::values::query_from_pairs;
use coordinate_rest::wire::{choose_response_type, decode_name, is_json_content_type};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{json_response, ApiError, V1_JSON};
use crate::state::AppState;

/// Middleware: picks the answer's media type from `Accept` before the
/// handler runs (406, or 400 for a malformed header, leave the store
/// alone) and labels the JSON answer with it.
pub async fn negotiate(request: Request, next: Next) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    let chosen = match choose_response_type(accept) {
        Ok(chosen) => chosen,
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
            return ApiError::new(status, refusal.to_string()).into_response();
        }
    };
    let mut response = next.run(request).await;
    let ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t == V1_JSON);
    if ours {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(chosen.as_str()),
        );
    }
    response
}

/// A JSON request body of type `T`: 415 for a content type that is not
/// JSON, 400 naming what is wrong with the JSON, 413 past the body limit.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("\u{0}").to_owned());
        if !is_json_content_type(content_type.as_deref()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "unsupported media type {:?}: send JSON",
                    content_type.unwrap_or_default()
                ),
            )
            .into_response());
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request("the request needs a JSON body").into_response());
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")).into_response())
    }
}

/// A name from the path, decoded (`-` + base64url); 400 if it is not one.
pub fn name(segment: &str) -> Result<String, ApiError> {
    decode_name(segment).map_err(|bad| ApiError::bad_request(bad.to_string()))
}

/// The query string's pairs, decoded.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// A work unit query from the query string; 400 if it names a bad
/// status, name or limit.
pub fn work_unit_query(query: Option<&str>) -> Result<WorkUnitQuery, ApiError> {
    let pairs = query_pairs(query);
    query_from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|bad| ApiError::bad_request(format!("work unit query: {bad}")))
}

/// go's boolean query parameter: truthy and falsy words, else `default`.
pub fn bool_param(query: Option<&str>, key: &str, default: bool) -> bool {
    let pairs = query_pairs(query);
    let Some((_, value)) = pairs.iter().find(|(k, _)| k == key) else {
        return default;
    };
    match value.to_ascii_lowercase().as_str() {
        "0" | "f" | "n" | "false" | "off" | "no" => false,
        "1" | "t" | "y" | "true" | "on" | "yes" => true,
        _ => default,
    }
}

/// Store errors in go's shape.
pub fn store(error: coordinate_api::Error) -> ApiError {
    ApiError::store(&error)
}

/// 200 with a JSON body.
pub fn ok(body: &impl Serialize) -> Response {
    json_response(StatusCode::OK, body)
}

/// 201 with `Location` and a JSON body.
pub fn created(location: &str, body: &impl Serialize) -> Response {
    let mut response = json_response(StatusCode::CREATED, body);
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// 204.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
