//! Handle references in process: a URL carrying `?ref=` reaches the very
//! handle it was made from (so a deleted object stays gone), a URL without
//! one is resolved by names as go does, and a `ref` that does not fit its
//! path is refused.

mod in_process;

use serde_json::{json, Value};

use in_process::{Answer, InProcess};

/// The answer's status, and its error name and value.
fn error_of(answer: &Answer) -> (u16, &str, &str) {
    let text = |key: &str| answer.body[key].as_str().unwrap_or("");
    (answer.status, text("error"), text("value"))
}

/// The status of the attempt at `url`.
async fn status_at(server: &InProcess, url: &str) -> Value {
    server.send("GET", url, None).await.body["status"].clone()
}

/// The `url` of the answer's body.
fn url(answer: &Answer) -> String {
    answer.body["url"].as_str().expect("a url").to_owned()
}

#[tokio::test]
async fn old_urls_stay_gone_after_a_namespace_is_recreated() {
    let server = InProcess::new("");
    let ns = server
        .send("POST", "/namespace", Some(r#"{"name": "ns"}"#))
        .await;
    assert_eq!(url(&ns), "/namespace/ns?ref=1");
    let spec = server
        .send(
            "POST",
            "/namespace/ns/work_spec?ref=1",
            Some(r#"{"data": {"name": "spec"}}"#),
        )
        .await;
    assert_eq!(url(&spec), "/namespace/ns/work_spec/spec?ref=2");
    let worker = server
        .send("GET", "/namespace/ns/worker/w?ref=1", None)
        .await;
    assert_eq!(url(&worker), "/namespace/ns/worker/w?ref=3");
    assert_eq!(
        server
            .send("DELETE", "/namespace/ns?ref=1", None)
            .await
            .status,
        204
    );

    // By name, go's way: a new namespace.
    let again = server.send("GET", "/namespace/ns", None).await;
    assert_eq!(url(&again), "/namespace/ns?ref=4");

    // Through the old handles: gone, and nothing is re-created.
    let gone_ns = (404, "ErrGone", "namespace:ns");
    for path in [
        "/namespace/ns/work_spec/spec?ref=1",
        "/namespace/ns/worker/w?ref=1",
        "/namespace/ns/worker/new?ref=1",
    ] {
        let answer = server.send("GET", path, None).await;
        assert_eq!(error_of(&answer), gone_ns, "{path}");
    }
    let answer = server
        .send("GET", "/namespace/ns/work_spec/spec/meta?ref=2", None)
        .await;
    assert_eq!(error_of(&answer), (404, "ErrGone", "work_spec:spec"));
    let answer = server
        .send("GET", "/namespace/ns/worker/w/all_attempts?ref=3", None)
        .await;
    assert_eq!(error_of(&answer), (404, "ErrGone", "worker:w"));
    let answer = server
        .send("GET", "/namespace/ns/work_spec?ref=1", None)
        .await;
    assert_eq!(answer.body, json!({"work_specs": []}));
    let answer = server.send("GET", "/namespace/ns/worker?ref=4", None).await;
    assert_eq!(answer.body, json!({"workers": []}), "no worker came back");
}

#[tokio::test]
async fn refs_that_do_not_fit_their_path_are_refused() {
    let server = InProcess::new("");
    server
        .send("POST", "/namespace", Some(r#"{"name": "ns"}"#))
        .await;
    let spec = server
        .send(
            "POST",
            "/namespace/ns/work_spec?ref=1",
            Some(r#"{"data": {"name": "spec"}}"#),
        )
        .await;
    assert_eq!(url(&spec), "/namespace/ns/work_spec/spec?ref=2");
    let refused = |answer: &Answer, why: &str| {
        assert_eq!(answer.status, 400, "{why}: {:?}", answer.body);
        let message = answer.body["message"].as_str().unwrap_or("");
        assert!(message.contains(why), "{message}");
    };
    refused(
        &server
            .send("GET", "/namespace/other/work_spec/spec?ref=2", None)
            .await,
        "names namespace \"other\"",
    );
    refused(
        &server
            .send("GET", "/namespace/ns/work_spec/nope?ref=2", None)
            .await,
        "names work spec \"nope\"",
    );
    refused(
        &server.send("GET", "/namespace/ns?ref=2", None).await,
        "a work spec this path does not name",
    );
    refused(
        &server.send("GET", "/namespace/ns?ref=x", None).await,
        "not a handle token",
    );
    // A token never handed out (or evicted) falls back to names.
    let answer = server
        .send("GET", "/namespace/ns/work_spec/spec?ref=99", None)
        .await;
    assert_eq!((answer.status, &answer.body["name"]), (200, &json!("spec")));
}

#[tokio::test]
async fn attempts_at_one_instant_are_told_apart() {
    let server = InProcess::new("");
    server
        .send("POST", "/namespace", Some(r#"{"name": "ns"}"#))
        .await;
    server
        .send(
            "POST",
            "/namespace/ns/work_spec",
            Some(r#"{"data": {"name": "spec"}}"#),
        )
        .await;
    server
        .send(
            "POST",
            "/namespace/ns/work_spec/spec/work_unit",
            Some(r#"{"name": "u"}"#),
        )
        .await;
    let make = r#"{"work_spec": "spec", "work_unit": "u", "lifetime": 60000000000}"#;
    let first = server
        .send("POST", "/namespace/ns/worker/w/make_attempt", Some(make))
        .await;
    let first_url = url(&first);
    let finish = first.body["finish_url"].as_str().unwrap().to_owned();
    assert_eq!(server.send("POST", &finish, Some("{}")).await.status, 204);
    // The mock clock has not moved: the same path, another handle.
    let second = server
        .send("POST", "/namespace/ns/worker/w/make_attempt", Some(make))
        .await;
    let second_url = url(&second);
    let path = |url: &str| url.split('?').next().unwrap().to_owned();
    assert_eq!(path(&first_url), path(&second_url));
    assert_ne!(first_url, second_url);

    assert_eq!(status_at(&server, &first_url).await, "finished");
    assert_eq!(status_at(&server, &second_url).await, "pending");
    // Without a ref: the newest.
    assert_eq!(status_at(&server, &path(&second_url)).await, "pending");

    // Batches resolve each attempt URL through its own ref.
    let batch = json!({"completions": [
        {"attempt": second_url, "outcome": "fail", "delay": 0},
        {"attempt": first_url, "outcome": "fail", "delay": 0},
    ]});
    let answer = server
        .send(
            "POST",
            "/namespace/ns/complete_attempts",
            Some(&batch.to_string()),
        )
        .await;
    let results = &answer.body["results"];
    assert_eq!(results[0], Value::Null, "the second failed");
    assert_eq!(results[1]["error"], json!("ErrNotPending"), "{results}");
}
