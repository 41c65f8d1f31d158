//! Every action changes what it says, says what it changed, and a
//! refusal changes nothing.

use std::time::Duration;

use chrono::Utc;
use coordinate_api::{AttemptRequest, Data, WorkSpec, WorkUnitMeta, WorkUnitStatus};

use super::{hidden_value, unit_names, Site, BOTH};

/// Units named `names` in `spec`, each failed by one attempt.
fn failed_units(site: &Site, spec: &dyn WorkSpec, names: &[&str]) {
    let worker = site.store.namespace(&site.ns).unwrap().worker("w").unwrap();
    for name in names {
        let unit = spec
            .add_work_unit(name, Data::new(), WorkUnitMeta::default())
            .unwrap();
        worker
            .make_attempt(unit, Duration::from_secs(60))
            .unwrap()
            .fail(None)
            .unwrap();
    }
}

fn status(spec: &dyn WorkSpec, unit: &str) -> WorkUnitStatus {
    spec.work_unit(unit).unwrap().status().unwrap()
}

/// The message the page after an action shows.
async fn message_after(site: &mut Site, answer: &super::Answer) -> String {
    assert_eq!(answer.status, 303, "{answer:?}");
    let page = site.page(answer.location.as_deref().unwrap()).await;
    let start = page.body.find("id=\"flash\">").expect("a message") + "id=\"flash\">".len();
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].to_owned()
}

#[tokio::test]
async fn pause_resume_priority_and_weight() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        let spec = site.spec("s");
        let back = site.spec_path("s");
        site.page(&back).await;
        let ns = site.ns.clone();
        let answer = site
            .act(&[
                ("action", "pause"),
                ("namespace", &ns),
                ("spec", "s"),
                ("back", &back),
            ])
            .await;
        assert_eq!(answer.location.as_deref(), Some(back.as_str()));
        assert!(message_after(&mut site, &answer)
            .await
            .starts_with("paused work spec s"));
        assert!(spec.meta(false).unwrap().paused);
        let page = site.page(&back).await;
        assert!(
            page.body.contains("id=\"resume\""),
            "the page offers to resume"
        );
        site.act(&[("action", "resume"), ("namespace", &ns), ("spec", "s")])
            .await;
        assert!(!spec.meta(false).unwrap().paused);
        let answer = site
            .act(&[
                ("action", "set-meta"),
                ("namespace", &ns),
                ("spec", "s"),
                ("priority", "7"),
                ("weight", "3"),
            ])
            .await;
        assert!(message_after(&mut site, &answer)
            .await
            .contains("priority 7, weight 3"));
        let meta = spec.meta(false).unwrap();
        assert_eq!((meta.priority, meta.weight), (7, 3));
        let bad = site
            .act(&[
                ("action", "set-meta"),
                ("namespace", &ns),
                ("spec", "s"),
                ("priority", "high"),
                ("weight", "3"),
            ])
            .await;
        assert_eq!(bad.status, 400);
        assert!(
            bad.body
                .contains("priority &#34;high&#34; is not a whole number"),
            "{}",
            bad.body
        );
        assert_eq!(spec.meta(false).unwrap().priority, 7, "nothing changed");
    }
}

#[tokio::test]
async fn retry_one_a_selection_or_every_failed_unit() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        let spec = site.spec("s");
        failed_units(&site, &*spec, &["f1", "f2", "f3", "f4"]);
        spec.add_work_unit("ok", Data::new(), WorkUnitMeta::default())
            .unwrap();
        site.page("/").await;
        let ns = site.ns.clone();
        let base = [("namespace", ns.as_str()), ("spec", "s")];
        let one = site
            .act(&[base[0], base[1], ("action", "retry-units"), ("unit", "f1")])
            .await;
        assert_eq!(
            message_after(&mut site, &one).await,
            "retried unit f1 of work spec s"
        );
        assert_eq!(status(&*spec, "f1"), WorkUnitStatus::Available);
        assert_eq!(
            spec.work_unit("f1").unwrap().num_attempts().unwrap(),
            1,
            "history kept"
        );
        // A selection with a unit that has not failed changes nothing.
        let mixed = site
            .act(&[
                base[0],
                base[1],
                ("action", "retry-units"),
                ("unit", "f2"),
                ("unit", "ok"),
            ])
            .await;
        let said = message_after(&mut site, &mixed).await;
        assert!(
            said.contains("only failed units are retried") && said.contains("nothing changed"),
            "{said}"
        );
        assert_eq!(status(&*spec, "f2"), WorkUnitStatus::Failed);
        let all = site
            .act(&[base[0], base[1], ("action", "retry-failed")])
            .await;
        assert!(message_after(&mut site, &all)
            .await
            .starts_with("retried 3 failed unit(s)"));
        for unit in ["f2", "f3", "f4"] {
            assert_eq!(status(&*spec, unit), WorkUnitStatus::Available);
        }
        let none = site
            .act(&[base[0], base[1], ("action", "retry-units")])
            .await;
        assert_eq!(
            message_after(&mut site, &none).await,
            "no unit was selected"
        );
    }
}

#[tokio::test]
async fn set_the_priority_of_units() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        let spec = site.spec("s");
        site.add_units(&*spec, &["a", "b", "c"]);
        site.page("/").await;
        let ns = site.ns.clone();
        let answer = site
            .act(&[
                ("namespace", &ns),
                ("spec", "s"),
                ("action", "prioritize-units"),
                ("unit", "a"),
                ("unit", "c"),
                ("unit_priority", "2.5"),
            ])
            .await;
        assert_eq!(
            message_after(&mut site, &answer).await,
            "set the priority of 2 units of work spec s to 2.5"
        );
        let priority = |u: &str| spec.work_unit(u).unwrap().priority().unwrap();
        assert_eq!(
            (priority("a"), priority("b"), priority("c")),
            (2.5, 0.0, 2.5)
        );
        let bad = site
            .act(&[
                ("namespace", &ns),
                ("spec", "s"),
                ("action", "prioritize-units"),
                ("unit", "a"),
                ("unit_priority", "NaN"),
            ])
            .await;
        assert_eq!(bad.status, 400);
        assert_eq!(priority("a"), 2.5);
    }
}

#[tokio::test]
async fn deleting_asks_states_the_count_and_deletes_exactly_those() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        let spec = site.spec("s");
        failed_units(&site, &*spec, &["f1", "f2", "f3"]);
        site.add_units(&*spec, &["a1", "a2"]);
        site.page("/").await;
        let ns = site.ns.clone();
        let ask = site
            .act(&[
                ("namespace", &ns),
                ("spec", "s"),
                ("action", "delete-status"),
                ("status", "failed"),
            ])
            .await;
        assert_eq!(ask.status, 200, "a confirmation page");
        assert!(
            ask.body
                .contains("Delete 3 unit(s) with status failed of work spec s"),
            "{}",
            ask.body
        );
        assert_eq!(
            spec.work_units(&Default::default()).unwrap().len(),
            5,
            "nothing deleted yet"
        );
        assert_eq!(hidden_value(&ask.body, "expected").as_deref(), Some("3"));
        // One more unit fails before the confirmation: asked again.
        failed_units(&site, &*spec, &["f4"]);
        let stale = site
            .act(&[
                ("namespace", &ns),
                ("spec", "s"),
                ("action", "delete-status"),
                ("status", "failed"),
                ("confirm", "yes"),
                ("expected", "3"),
            ])
            .await;
        assert_eq!(stale.status, 200);
        assert!(stale
            .body
            .contains("The selection changed since you confirmed 3: it is 4 now."));
        let done = site
            .act(&[
                ("namespace", &ns),
                ("spec", "s"),
                ("action", "delete-status"),
                ("status", "failed"),
                ("confirm", "yes"),
                ("expected", "4"),
            ])
            .await;
        assert!(message_after(&mut site, &done)
            .await
            .starts_with("deleted 4 unit(s) of work spec s"));
        assert_eq!(unit_names(&*spec), ["a1", "a2"]);
        // A selection, from a unit's page: back to the spec after.
        let ask = site
            .act(&[
                ("namespace", &ns),
                ("spec", "s"),
                ("action", "delete-units"),
                ("unit", "a1"),
                ("after_delete", &site.spec_path("s")),
            ])
            .await;
        assert!(
            ask.body.contains("Delete unit a1 of work spec s"),
            "{}",
            ask.body
        );
        let done = site
            .act(&[
                ("namespace", &ns),
                ("spec", "s"),
                ("action", "delete-units"),
                ("unit", "a1"),
                ("confirm", "yes"),
                ("expected", "1"),
                ("after_delete", &site.spec_path("s")),
            ])
            .await;
        assert_eq!(done.location.as_deref(), Some(site.spec_path("s").as_str()));
        assert!(spec.work_unit("a1").is_err() && spec.work_unit("a2").is_ok());
    }
}

#[tokio::test]
async fn cancel_a_pending_attempt_and_release_a_dead_worker() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        let spec = site.spec("s");
        site.add_units(&*spec, &["u1", "u2"]);
        let namespace = site.store.namespace(&site.ns).unwrap();
        let live = namespace.worker("live").unwrap();
        let now = Utc::now();
        live.update(Data::new(), now, now + chrono::Duration::minutes(10), "run")
            .unwrap();
        let request = AttemptRequest {
            number_of_work_units: 1,
            lifetime: Duration::from_secs(600),
            ..AttemptRequest::default()
        };
        let held = live.request_attempts(&request).unwrap();
        let unit = held[0].work_unit().name().to_owned();
        let page = site.page(&site.unit_path("s", &unit)).await;
        assert!(
            page.body.contains("id=\"cancel\""),
            "a pending attempt can be cancelled"
        );
        let ns = site.ns.clone();
        let cancel = site
            .act(&[
                ("namespace", &ns),
                ("spec", "s"),
                ("unit", &unit),
                ("action", "cancel"),
            ])
            .await;
        assert!(message_after(&mut site, &cancel)
            .await
            .starts_with("cancelled the pending attempt"));
        assert_eq!(status(&*spec, &unit), WorkUnitStatus::Available);
        let again = site
            .act(&[
                ("namespace", &ns),
                ("spec", "s"),
                ("unit", &unit),
                ("action", "cancel"),
            ])
            .await;
        assert!(message_after(&mut site, &again)
            .await
            .contains("no pending attempt"));

        // A live worker's attempts are not released; a dead one's are.
        let held = live.request_attempts(&request).unwrap();
        let unit = held[0].work_unit().name().to_owned();
        let refused = site
            .act(&[
                ("namespace", &ns),
                ("worker", "live"),
                ("action", "release"),
            ])
            .await;
        assert!(message_after(&mut site, &refused)
            .await
            .contains("it may still be running"));
        assert_eq!(status(&*spec, &unit), WorkUnitStatus::Pending);
        live.update(
            Data::new(),
            now,
            Utc::now() - chrono::Duration::seconds(1),
            "run",
        )
        .unwrap();
        let workers = site.page(&site.ns_path("/worker")).await;
        assert!(
            workers.body.contains("Release 1 attempt(s)"),
            "{}",
            workers.body
        );
        let released = site
            .act(&[
                ("namespace", &ns),
                ("worker", "live"),
                ("action", "release"),
            ])
            .await;
        assert_eq!(
            message_after(&mut site, &released).await,
            format!("released 1 attempt(s) of worker live in namespace {ns}")
        );
        assert_eq!(status(&*spec, &unit), WorkUnitStatus::Available);
        assert!(!live.active().unwrap());
    }
}

#[tokio::test]
async fn a_store_refusal_is_a_message_not_a_trace() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        site.page("/").await;
        let ns = site.ns.clone();
        let answer = site
            .act(&[("namespace", &ns), ("spec", "nope"), ("action", "pause")])
            .await;
        let said = message_after(&mut site, &answer).await;
        assert!(
            said.starts_with("the store refused:") && said.contains("nope"),
            "{said}"
        );
        let unknown = site.act(&[("action", "explode")]).await;
        assert_eq!(unknown.status, 400);
        assert!(unknown.body.contains("is not a dashboard action"));
    }
}
