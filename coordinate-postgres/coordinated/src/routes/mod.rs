//! go-coordinate's REST routes and our additions (the table is in
//! `coordinate_rest::wire`'s docs). Every handler decodes names, query and
//! body before it touches the store, so a 400, 406 or 415 leaves the store
//! as it was; then it finds its objects through the request's `ref`, or by
//! names ([`scope`]), and answers with URLs minted from the handles it
//! used ([`links`]).

pub mod additions;
pub mod attempt;
pub mod links;
pub mod namespace;
pub mod represent;
pub mod root;
pub mod scope;
pub mod support;
pub mod urls;
pub mod work_spec;
pub mod work_unit;
pub mod worker;

use axum::middleware::from_fn;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

const NS: &str = "/namespace/{namespace}";
const SPEC: &str = "/namespace/{namespace}/work_spec/{spec}";
const UNIT: &str = "/namespace/{namespace}/work_spec/{spec}/work_unit/{unit}";
const ATTEMPT: &str =
    "/namespace/{namespace}/work_spec/{spec}/work_unit/{unit}/attempt/{worker}/{start}";
const WORKER: &str = "/namespace/{namespace}/worker/{worker}";

/// The API's routes, with content negotiation.
pub fn api() -> Router<AppState> {
    let at = |base: &str, rest: &str| format!("{base}{rest}");
    Router::new()
        .route("/", get(root::root))
        .route("/summary", get(root::summary))
        .route("/namespace", get(namespace::list).post(namespace::create))
        .route(NS, get(namespace::get).delete(namespace::delete))
        .route(&at(NS, "/summary"), get(namespace::summary))
        .route(
            &at(NS, "/work_spec"),
            get(work_spec::list).post(work_spec::create),
        )
        .route(
            SPEC,
            get(work_spec::get)
                .put(work_spec::put)
                .delete(work_spec::delete),
        )
        .route(
            &at(SPEC, "/meta"),
            get(work_spec::meta_get).put(work_spec::meta_put),
        )
        .route(&at(SPEC, "/counts"), get(work_spec::counts))
        .route(&at(SPEC, "/change"), post(work_spec::change))
        .route(&at(SPEC, "/adjust"), post(work_spec::adjust))
        .route(&at(SPEC, "/summary"), get(work_spec::summary))
        .route(
            &at(SPEC, "/work_unit"),
            get(work_unit::list)
                .delete(work_unit::delete)
                .post(work_unit::create),
        )
        .route(UNIT, get(work_unit::get).put(work_unit::put))
        .route(&at(UNIT, "/attempts"), get(work_unit::attempts))
        .route(&at(UNIT, "/num-attempts"), get(work_unit::num_attempts))
        .route(ATTEMPT, get(attempt::get))
        .route(&at(ATTEMPT, "/renew"), post(attempt::renew))
        .route(&at(ATTEMPT, "/expire"), post(attempt::expire))
        .route(&at(ATTEMPT, "/finish"), post(attempt::finish))
        .route(&at(ATTEMPT, "/fail"), post(attempt::fail))
        .route(&at(ATTEMPT, "/retry"), post(attempt::retry))
        .route(&at(NS, "/worker"), get(worker::list))
        .route(WORKER, get(worker::get).put(worker::put))
        .route(
            &at(WORKER, "/request_attempts"),
            post(worker::request_attempts),
        )
        .route(&at(WORKER, "/make_attempt"), post(worker::make_attempt))
        .route(
            &at(WORKER, "/active_attempts"),
            get(worker::active_attempts),
        )
        .route(&at(WORKER, "/all_attempts"), get(worker::all_attempts))
        .route(&at(WORKER, "/child_attempts"), get(worker::child_attempts))
        .route(&at(SPEC, "/work_units"), post(additions::add_work_units))
        .route(&at(UNIT, "/set_priority"), post(additions::set_priority))
        .route(
            &at(NS, "/complete_attempts"),
            post(additions::complete_attempts),
        )
        .route(&at(NS, "/renew_attempts"), post(additions::renew_attempts))
        .route(&at(NS, "/wait_for_work"), post(additions::wait_for_work))
        .route(
            &at(NS, "/wait_for_cancellation"),
            post(additions::wait_for_cancellation),
        )
        .route(&at(NS, "/prune"), post(additions::prune))
        .route(&at(NS, "/count_prunable"), post(additions::count_prunable))
        .layer(from_fn(support::negotiate))
}
