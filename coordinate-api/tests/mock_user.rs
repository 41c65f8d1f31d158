//! How a user tests their own code against mocks of the API (feature
//! `mock`), with no backend at all.

use std::sync::Arc;

use coordinate_api::{
    Coordinate, Data, Error, MockCoordinate, MockNamespace, MockWorkSpec, MockWorkUnit, Result,
    Value, WorkUnitMeta,
};
use mockall::predicate::eq;

/// The user's code under test: queue one unit per URL in the "fetch" spec of
/// namespace "crawler", and report how many were queued.
fn enqueue_pages(coordinate: &dyn Coordinate, urls: &[&str]) -> Result<usize> {
    let spec = coordinate.namespace("crawler")?.work_spec("fetch")?;
    for url in urls {
        let mut data = Data::new();
        data.insert("url".into(), Value::Text((*url).into()));
        spec.add_work_unit(url, data, WorkUnitMeta::default())?;
    }
    Ok(urls.len())
}

#[test]
fn enqueue_pages_adds_one_unit_per_url() {
    let mut spec = MockWorkSpec::new();
    spec.expect_add_work_unit()
        .times(2)
        .withf(|name, data, _meta| data.get("url") == Some(&Value::Text(name.into())))
        .returning(|_, _, _| Ok(Arc::new(MockWorkUnit::new())));
    let spec = Arc::new(spec);

    let mut namespace = MockNamespace::new();
    namespace
        .expect_work_spec()
        .with(eq("fetch"))
        .returning(move |_| Ok(spec.clone()));
    let namespace = Arc::new(namespace);

    let mut coordinate = MockCoordinate::new();
    coordinate
        .expect_namespace()
        .with(eq("crawler"))
        .times(1)
        .returning(move |_| Ok(namespace.clone()));

    assert_eq!(enqueue_pages(&coordinate, &["a", "b"]).unwrap(), 2);
}

#[test]
fn enqueue_pages_reports_a_missing_spec() {
    let mut namespace = MockNamespace::new();
    namespace
        .expect_work_spec()
        .returning(|name| Err(Error::no_such_work_spec(name)));
    let namespace = Arc::new(namespace);
    let mut coordinate = MockCoordinate::new();
    coordinate
        .expect_namespace()
        .returning(move |_| Ok(namespace.clone()));

    let err = enqueue_pages(&coordinate, &["a"]).unwrap_err();
    assert!(matches!(err, Error::NoSuchWorkSpec { ref name } if name == "fetch"));
}
