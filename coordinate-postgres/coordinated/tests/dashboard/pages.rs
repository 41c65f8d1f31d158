//! Every screen against what the store holds; JSON stays JSON.

use std::time::Duration;

use chrono::Utc;
use coordinate_api::{AttemptRequest, Data, Value, WorkUnitMeta};

use super::{shown_count, Site, BOTH};

fn traceback(text: &str) -> Data {
    let mut data = Data::new();
    data.insert("traceback".into(), Value::Text(text.into()));
    data
}

#[tokio::test]
async fn json_stays_json_and_browsers_get_pages() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        site.spec("s");
        for accept in [None, Some("*/*"), Some("application/json")] {
            let root = site.get("/", accept).await;
            assert_eq!(root.status, 200, "{accept:?}");
            assert!(root.content_type.contains("json"), "{accept:?}: {root:?}");
            assert!(root.body.contains("namespaces_url"), "{root:?}");
            let spec = site.get(&site.spec_path("s"), accept).await;
            assert!(spec.content_type.contains("json"), "{spec:?}");
        }
        let page = site.page("/").await;
        assert_eq!(page.status, 200);
        assert!(page.content_type.starts_with("text/html"), "{page:?}");
        let csp = page.csp.expect("a Content-Security-Policy");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(!page.body.contains("<script>"), "no inline script");
        // Routes without a page answer JSON even to a browser.
        let counts = site.page(&format!("{}/counts", site.spec_path("s"))).await;
        assert!(counts.content_type.contains("json"), "{counts:?}");
    }
}

#[tokio::test]
async fn every_screen_shows_what_the_store_has() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        let spec = site.spec("work");
        for name in ["a", "b", "c", "d"] {
            let mut data = Data::new();
            data.insert("bytes".into(), Value::Bytes(vec![0, 255]));
            data.insert(
                "tagged".into(),
                Value::Tag(37, Box::new(Value::Text("t".into()))),
            );
            spec.add_work_unit(name, data, WorkUnitMeta::default())
                .unwrap();
        }
        let namespace = site.store.namespace(&site.ns).unwrap();
        let parent = namespace.worker("parent").unwrap();
        let child = namespace.worker("child").unwrap();
        let now = Utc::now();
        for worker in [&parent, &child] {
            worker
                .update(Data::new(), now, now + chrono::Duration::minutes(5), "run")
                .unwrap();
        }
        child.set_parent(Some(parent.clone())).unwrap();
        let attempts = child
            .request_attempts(&AttemptRequest {
                number_of_work_units: 3,
                lifetime: Duration::from_secs(600),
                ..AttemptRequest::default()
            })
            .unwrap();
        assert_eq!(attempts.len(), 3);
        let failed = attempts[0].work_unit().name().to_owned();
        let finished = attempts[1].work_unit().name().to_owned();
        let long_trace: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        attempts[0].fail(Some(traceback(&long_trace))).unwrap();
        attempts[1].finish(None).unwrap();
        site.sample().await;

        let overview = site.page("/").await;
        assert_eq!(overview.status, 200);
        assert!(overview.body.contains(&site.ns), "the namespace is listed");
        let part = &overview.body[overview.body.find(&site.ns).unwrap()..];
        assert_eq!(shown_count(part, "available"), Some(1), "{part}");
        assert_eq!(shown_count(part, "pending"), Some(1));
        assert_eq!(shown_count(part, "finished"), Some(1));
        assert_eq!(shown_count(part, "failed"), Some(1));
        assert!(part.contains(">2</span> live of 2"), "{part}");

        let ns_page = site.page(&site.ns_path("")).await;
        assert_eq!(
            shown_count(&ns_page.body, "failed"),
            Some(1),
            "{}",
            ns_page.body
        );

        let spec_page = site.page(&site.spec_path("work")).await;
        assert_eq!(spec_page.status, 200);
        assert_eq!(shown_count(&spec_page.body, "available"), Some(1));
        assert!(
            spec_page.body.contains("data-setting=\"Weight\">20<"),
            "{}",
            spec_page.body
        );
        for name in ["a", "b", "c", "d"] {
            assert!(
                spec_page.body.contains(&format!("value=\"{name}\"")),
                "unit {name} listed"
            );
        }
        let failed_only = site
            .page(&format!("{}?status=failed", site.spec_path("work")))
            .await;
        assert_eq!(failed_only.body.matches("name=\"unit\"").count(), 1);
        assert!(failed_only.body.contains(&format!("value=\"{failed}\"")));

        let unit = site.page(&site.unit_path("work", &failed)).await;
        assert_eq!(unit.status, 200, "{unit:?}");
        assert!(unit
            .body
            .contains("id=\"unit-status\" class=\"failed\">failed<"));
        assert!(
            unit.body.contains("<details><summary>30 lines</summary>"),
            "folded"
        );
        assert!(unit.body.contains("line 30"));
        assert!(unit.body.contains(">child</a>"), "the attempt's worker");

        // A finished unit shows its own data, bytes and tags marked.
        let unit = site.page(&site.unit_path("work", &finished)).await;
        assert!(
            unit.body.contains("&#34;$bytes&#34;: &#34;00ff&#34;"),
            "{}",
            unit.body
        );
        assert!(unit.body.contains("&#34;$tag&#34;: 37"), "{}", unit.body);
        assert!(unit.body.contains("class=\"finished\">finished<"));

        let workers = site.page(&site.ns_path("/worker")).await;
        let parent_at = workers.body.find(">parent<").expect("parent listed");
        let child_at = workers.body.find(">child<").expect("child listed");
        assert!(parent_at < child_at, "a parent before its children");
        assert!(
            workers.body.contains("class=\"depth-1\">child<"),
            "{}",
            workers.body
        );
        assert!(workers
            .body
            .contains("<span id=\"live-count\">2</span> live of 2"));
    }
}

#[tokio::test]
async fn units_are_paged_by_name_and_start_where_asked() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        let spec = site.spec("many");
        let units = (0..120)
            .map(|i| coordinate_api::NewWorkUnit {
                name: format!("u{i:03}"),
                data: Data::new(),
                meta: WorkUnitMeta::default(),
            })
            .collect();
        spec.add_work_units(units).unwrap();
        let path = site.spec_path("many");
        let first = site.page(&path).await;
        assert_eq!(first.body.matches("name=\"unit\"").count(), 50);
        assert!(first.body.contains("value=\"u000\"") && first.body.contains("value=\"u049\""));
        let next = next_link(&first.body).expect("a next page");
        assert!(next.contains("after=u049"), "{next}");
        let second = site.page(&next).await;
        assert!(second.body.contains("value=\"u050\"") && !second.body.contains("value=\"u049\""));
        let third = site.page(&next_link(&second.body).unwrap()).await;
        assert_eq!(third.body.matches("name=\"unit\"").count(), 20);
        assert!(next_link(&third.body).is_none(), "the last page");
        let from = site.page(&format!("{path}?from=u060")).await;
        assert!(
            from.body.contains("value=\"u060\""),
            "starting at includes the name"
        );
        assert!(!from.body.contains("value=\"u059\""));
        assert_eq!(from.body.matches("name=\"unit\"").count(), 50);
        let bad = site.page(&format!("{path}?status=bogus")).await;
        assert_eq!(bad.status, 400);
        assert!(bad.body.contains("not a work unit status"), "{}", bad.body);
    }
}

#[tokio::test]
async fn hostile_names_render_as_text() {
    for backend in BOTH {
        let mut site = Site::plain(backend);
        let img = "<img src=x onerror=alert(1)>";
        let drop = "\"; DROP TABLE work_unit; --";
        let spec = site.spec(img);
        for unit in [img, drop, "right\u{202e}left"] {
            spec.add_work_unit(unit, Data::new(), WorkUnitMeta::default())
                .unwrap();
        }
        site.sample().await;
        for path in [
            "/".to_owned(),
            site.spec_path(img),
            site.unit_path(img, img),
            site.unit_path(img, drop),
        ] {
            let page = site.page(&path).await;
            assert_eq!(page.status, 200, "{path}");
            assert!(!page.body.contains("<img"), "{path}: {}", page.body);
            assert!(!page.body.contains("\"; DROP"), "{path}");
        }
        let spec_page = site.page(&site.spec_path(img)).await;
        assert!(spec_page
            .body
            .contains("&#60;img src=x onerror=alert(1)&#62;"));
        assert!(spec_page.body.contains("&#34;; DROP TABLE work_unit; --"));
        assert!(
            spec_page.body.contains("right\\u{202e}left"),
            "hidden characters shown"
        );
    }
}

fn next_link(body: &str) -> Option<String> {
    let marker = "rel=\"next\"";
    let at = body.find(marker)?;
    let href_start = body[..at].rfind("href=\"")? + "href=\"".len();
    let href_end = body[href_start..].find('"')? + href_start;
    Some(body[href_start..href_end].replace("&#38;", "&"))
}
