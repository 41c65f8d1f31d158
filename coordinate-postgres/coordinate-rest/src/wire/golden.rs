//! Golden JSON text of representative shapes, as go writes and reads them.

use chrono::{TimeZone, Utc};
use coordinate_api::{AttemptStatus, Data, Value, WorkSpecMeta, WorkUnitQuery, WorkUnitStatus};
use std::time::Duration;

use super::additions::*;
use super::shapes::*;
use super::values::*;
use super::DataDict;

fn at(nanos: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap()
        + chrono::Duration::nanoseconds(nanos.into())
}

#[test]
fn attempt() {
    let mut data = Data::new();
    data.insert("k".into(), Value::Integer(1));
    let attempt = Attempt {
        url: "/a".into(),
        work_unit_url: "/u".into(),
        worker_url: "/w".into(),
        start_time: at(123_456_000),
        status: AttemptStatus::Retryable,
        data: Some(DataDict::encode(&data).unwrap()),
        end_time: None,
        expiration_time: at(0),
        renew_url: "/a/renew".into(),
        expire_url: "/a/expire".into(),
        finish_url: "/a/finish".into(),
        fail_url: "/a/fail".into(),
        retry_url: "/a/retry".into(),
        work_unit: None,
    };
    let text = serde_json::to_string(&attempt).unwrap();
    assert_eq!(
        text,
        r#"{"url":"/a","work_unit_url":"/u","worker_url":"/w","start_time":"2026-12-03T06:00:00.123456Z","status":"retryable","data":{"k":1},"expiration_time":"2026-12-03T06:00:00Z","renew_url":"/a/renew","expire_url":"/a/expire","finish_url":"/a/finish","fail_url":"/a/fail","retry_url":"/a/retry"}"#
    );
    assert_eq!(serde_json::from_str::<Attempt>(&text).unwrap(), attempt);
    // go writes statuses as integers in some versions, and zero end times.
    let go = text
        .replace(r#""retryable""#, "4")
        .replace(r#""data""#, r#""end_time":"0001-01-01T00:00:00Z","data""#);
    assert_eq!(serde_json::from_str::<Attempt>(&go).unwrap(), attempt);
}

#[test]
fn work_unit_and_meta() {
    let unit = WorkUnit {
        url: "/u".into(),
        name: "u".into(),
        data: None,
        meta: Some(WorkUnitMetaJson {
            priority: 2.5,
            not_before: Some(at(0)),
        }),
        status: Some(WorkUnitStatus::Delayed),
        work_spec_url: "/s".into(),
        active_attempt_url: None,
        attempts_url: "/u/attempts".into(),
    };
    let text = serde_json::to_string(&unit).unwrap();
    assert_eq!(
        text,
        r#"{"url":"/u","name":"u","meta":{"priority":2.5,"not_before":"2026-12-03T06:00:00Z"},"status":"delayed","work_spec_url":"/s","attempts_url":"/u/attempts"}"#
    );
    assert_eq!(serde_json::from_str::<WorkUnit>(&text).unwrap(), unit);
    // A go client's PUT clearing the active attempt.
    let put: WorkUnit = serde_json::from_str(
        r#"{"url":"","name":"","meta":null,"status":"any","work_spec_url":"","active_attempt_url":"-","attempts_url":""}"#,
    )
    .unwrap();
    assert_eq!(put.active_attempt_url.as_deref(), Some("-"));
    assert_eq!((put.meta, put.status), (None, None));
}

#[test]
fn work_spec_meta() {
    let meta = WorkSpecMeta {
        interval: Duration::from_secs(60),
        ..WorkSpecMeta::default()
    };
    let text = serde_json::to_string(&WorkSpecMetaJson::from(meta.clone())).unwrap();
    assert_eq!(
        text,
        r#"{"priority":0,"weight":20,"paused":false,"continuous":false,"can_be_continuous":false,"interval":60000000000,"next_continuous":null,"max_running":0,"max_attempts_returned":0,"max_retries":0,"next_work_spec_name":"","available_count":0,"pending_count":0,"runtime":""}"#
    );
    let back: WorkSpecMetaJson = serde_json::from_str(&text).unwrap();
    assert_eq!(WorkSpecMeta::from(back), meta);
}

#[test]
fn summaries_and_queries() {
    let record = SummaryRecordJson {
        namespace: "n".into(),
        work_spec: "s".into(),
        status: Some(WorkUnitStatus::Pending),
        count: 3,
    };
    let text = serde_json::to_string(&record).unwrap();
    assert_eq!(
        text,
        r#"{"Namespace":"n","WorkSpec":"s","Status":"pending","Count":3}"#
    );
    let go: SummaryRecordJson = serde_json::from_str(&text.replace(r#""pending""#, "2")).unwrap();
    assert_eq!(go, record);

    let query = WorkUnitQuery {
        names: vec!["a b".into(), "c".into()],
        statuses: vec![WorkUnitStatus::Available, WorkUnitStatus::Failed],
        previous_name: Some(String::new()),
        limit: Some(0),
    };
    let pairs = query_to_pairs(&query);
    let shown: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_eq!(
        shown.join("&"),
        "name=-YSBi&name=c&status=available&status=failed&previous=-&limit=0"
    );
    let back = query_from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
    assert_eq!(back, query);
    assert_eq!(
        query_from_pairs([("status", "any")]).unwrap(),
        WorkUnitQuery::all()
    );
    assert!(query_from_pairs([("status", "bogus")]).is_err());
    assert!(query_from_pairs([("limit", "-1")]).is_err());
}

#[test]
fn additions() {
    let batch = CompleteAttempts {
        completions: vec![CompletionJson {
            attempt: "/a".into(),
            outcome: OutcomeName::Retry,
            data: None,
            delay: Duration::from_millis(5),
        }],
    };
    assert_eq!(
        serde_json::to_string(&batch).unwrap(),
        r#"{"completions":[{"attempt":"/a","outcome":"retry","data":null,"delay":5000000}]}"#
    );
    assert_eq!(
        serde_json::to_string(&WaitResult {
            wakeup: WakeupName::TimedOut
        })
        .unwrap(),
        r#"{"wakeup":"timed_out"}"#
    );
    assert_eq!(append_segment("/ns/a", "prune"), "/ns/a/prune");
    assert_eq!(
        append_segment("http://h/ns/a/?id=3", "prune"),
        "http://h/ns/a/prune?id=3"
    );
}

#[test]
fn root_and_worker() {
    let root: RootData = serde_json::from_str(
        r#"{"url":"/","summary_url":"/summary","namespaces_url":"/namespace","namespace_url":"/namespace/{namespace}"}"#,
    )
    .unwrap();
    assert_eq!(root.namespace_url, "/namespace/{namespace}");
    // A set-parent PUT of ours says nothing about activity or reports.
    let put = Worker {
        parent: Some("p".into()),
        ..Worker::default()
    };
    assert_eq!(
        serde_json::to_string(&put).unwrap(),
        r#"{"url":"","name":"","parent":"p","mode":"","request_attempts_url":"","make_attempt_url":"","active_attempts_url":"","all_attempts_url":"","child_attempts_url":""}"#
    );
}
