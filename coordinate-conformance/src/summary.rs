//! Summaries: unit counts per namespace, work spec and status, from the
//! coordinate, a namespace and a work spec.

use std::time::Duration;

use coordinate_api::{Summary, SummaryRecord, WorkUnitQuery, WorkUnitStatus};

use crate::work_unit::make_status_units;
use crate::{definition, unique_name, Backend, Fixture};

use WorkUnitStatus::{Available, Delayed, Failed, Finished, Pending};

fn record(namespace: &str, spec: &str, status: WorkUnitStatus, count: usize) -> SummaryRecord {
    SummaryRecord {
        namespace: namespace.to_owned(),
        work_spec: spec.to_owned(),
        status,
        count,
    }
}

/// The coordinate's summary restricted to one namespace: other cases
/// share the store, so only our own records are predictable.
fn coordinate_summary_of(fx: &Fixture, namespace: &str) -> Summary {
    let all = fx.coordinate.summarize().expect("coordinate summary");
    all.into_iter()
        .filter(|r| r.namespace == namespace)
        .collect()
}

/// Coordinate, namespace and spec summaries agree for one spec (go: TestSummarize).
pub fn summarize_single_spec(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let ns = fx.namespace.name().to_owned();
    let spec = fx.spec("spec", &[]);
    let check = |expected: &Summary| {
        assert_eq!(&coordinate_summary_of(&fx, &ns), expected, "coordinate");
        assert_eq!(
            &fx.namespace.summarize().expect("namespace"),
            expected,
            "namespace"
        );
        assert_eq!(&spec.summarize().expect("spec"), expected, "work spec");
    };
    check(&Vec::new());

    fx.unit(&spec, "unit");
    check(&vec![record(&ns, "spec", Available, 1)]);

    make_status_units(&fx, &spec);
    check(&vec![
        record(&ns, "spec", Available, 4),
        record(&ns, "spec", Pending, 1),
        record(&ns, "spec", Finished, 1),
        record(&ns, "spec", Failed, 1),
        record(&ns, "spec", Delayed, 1),
    ]);
}

/// A namespace summary covers its specs in name order; a spec summary only itself.
pub fn summary_spans_work_specs(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let ns = fx.namespace.name().to_owned();
    let beta = fx.spec("beta", &[]);
    let alpha = fx.spec("alpha", &[]);
    fx.spec("empty", &[]);
    fx.unit(&beta, "b1");
    fx.unit(&beta, "b2");
    let a1 = fx.unit(&alpha, "a1");
    fx.worker("worker")
        .make_attempt(a1, Duration::from_secs(600))
        .expect("make_attempt");

    let expected = vec![
        record(&ns, "alpha", Pending, 1),
        record(&ns, "beta", Available, 2),
    ];
    assert_eq!(fx.namespace.summarize().expect("namespace"), expected);
    assert_eq!(coordinate_summary_of(&fx, &ns), expected);
    assert_eq!(alpha.summarize().expect("alpha"), expected[..1]);
    assert_eq!(beta.summarize().expect("beta"), expected[1..]);
}

/// The coordinate summary covers every namespace, sorted, without zero counts.
pub fn coordinate_summary_covers_namespaces(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let mine = fx.namespace.name().to_owned();
    let theirs = unique_name("summary-other");
    let other = fx.coordinate.namespace(&theirs).expect("other namespace");
    let other_spec = other
        .set_work_spec(definition("spec", &[]))
        .expect("their spec");
    fx.unit(&other_spec, "u");
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "u1");
    fx.unit(&spec, "u2");

    let all = fx.coordinate.summarize().expect("coordinate summary");
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "coordinate summary is sorted");
    assert!(all.iter().all(|r| r.count > 0), "no zero counts");
    assert_eq!(
        coordinate_summary_of(&fx, &mine),
        vec![record(&mine, "spec", Available, 2)]
    );
    assert_eq!(
        coordinate_summary_of(&fx, &theirs),
        vec![record(&theirs, "spec", Available, 1)]
    );
    assert_eq!(
        fx.namespace.summarize().expect("namespace"),
        vec![record(&mine, "spec", Available, 2)]
    );
    other.destroy().expect("destroy other");
    assert!(coordinate_summary_of(&fx, &theirs).is_empty());
}

/// Records disappear when their units are deleted.
pub fn summary_drops_deleted_units(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let ns = fx.namespace.name().to_owned();
    let spec = fx.spec("spec", &[]);
    make_status_units(&fx, &spec);
    spec.delete_work_units(&WorkUnitQuery::statuses([Available, Delayed]))
        .expect("delete");
    assert_eq!(
        spec.summarize().expect("summary"),
        vec![
            record(&ns, "spec", Pending, 1),
            record(&ns, "spec", Finished, 1),
            record(&ns, "spec", Failed, 1),
        ]
    );
    spec.delete_work_units(&WorkUnitQuery::all())
        .expect("delete");
    assert!(spec.summarize().expect("summary").is_empty());
    assert!(fx.namespace.summarize().expect("summary").is_empty());
}

/// Summaries count a unit whose lease ran out as available, and a delay that passed as over.
pub fn summary_follows_the_clock(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let ns = fx.namespace.name().to_owned();
    let spec = fx.spec("spec", &[]);
    let leased = fx.unit(&spec, "leased");
    let worker = fx.worker("worker");
    worker
        .make_attempt(leased, Duration::from_secs(60))
        .expect("make_attempt");
    let delayed = fx.unit(&spec, "delayed");
    worker
        .make_attempt(delayed, Duration::from_secs(600))
        .expect("make_attempt")
        .retry(None, Duration::from_secs(60))
        .expect("retry");
    assert_eq!(
        fx.namespace.summarize().expect("summary"),
        vec![
            record(&ns, "spec", Pending, 1),
            record(&ns, "spec", Delayed, 1),
        ]
    );
    fx.clock.advance(Duration::from_secs(120));
    assert_eq!(
        fx.namespace.summarize().expect("summary"),
        vec![record(&ns, "spec", Available, 2)]
    );
}
