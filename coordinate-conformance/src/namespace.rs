//! Namespaces: naming, listing, isolation, and the work specs they hold.

use coordinate_api::{Data, Error, Value, WorkUnitMeta, WorkUnitQuery};

use crate::{definition, unique_name, Backend, Fixture};

/// A namespace reports the name it was created with.
pub fn namespace_has_its_name(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let name = unique_name("named");
    let namespace = fx.coordinate.namespace(&name).expect("namespace");
    assert_eq!(namespace.name(), name);
    namespace.destroy().expect("destroy");
}

/// `namespaces()` includes a namespace once it exists, in name order.
pub fn namespaces_lists_the_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let list = fx.coordinate.namespaces().expect("namespaces");
    let names: Vec<&str> = list.iter().map(|n| n.name()).collect();
    assert!(names.contains(&fx.namespace.name()), "{names:?}");
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "namespaces come in name order");
}

/// A working store is ready to take work.
pub fn a_working_store_is_ready(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    fx.coordinate.ready().expect("ready");
}

/// Getting a namespace twice yields the same namespace, not a second one.
pub fn namespace_get_is_get_or_create(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    fx.spec("spec", &[]);
    let again = fx
        .coordinate
        .namespace(fx.namespace.name())
        .expect("namespace again");
    assert_eq!(again.name(), fx.namespace.name());
    assert_eq!(again.work_spec_names().expect("names"), vec!["spec"]);
    let count = fx
        .coordinate
        .namespaces()
        .expect("namespaces")
        .iter()
        .filter(|n| n.name() == fx.namespace.name())
        .count();
    assert_eq!(count, 1);
}

/// A destroyed namespace leaves the list, and recreating it starts empty.
pub fn destroy_removes_namespace(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let name = fx.namespace.name().to_owned();
    fx.spec("spec", &[]);
    fx.worker("worker");
    fx.namespace.destroy().expect("destroy");
    fx.namespace
        .destroy()
        .expect("destroying twice is not an error");
    let listed = fx.coordinate.namespaces().expect("namespaces");
    assert!(listed.iter().all(|n| n.name() != name));

    let fresh = fx.coordinate.namespace(&name).expect("recreate");
    assert!(fresh.work_spec_names().expect("names").is_empty());
    assert!(fresh.workers().expect("workers").is_empty());
    fresh.destroy().expect("destroy again");
}

/// Work specs are created, found, listed and destroyed (go: TestSpecCreateDestroy).
pub fn spec_create_destroy(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let ns = &fx.namespace;
    assert!(matches!(
        ns.work_spec("spec"),
        Err(Error::NoSuchWorkSpec { name }) if name == "spec"
    ));
    assert!(ns.work_spec_names().expect("names").is_empty());

    let dict = definition("spec", &[("min_gb", Value::Float(0.1))]);
    let spec = ns.set_work_spec(dict.clone()).expect("set_work_spec");
    assert_eq!(spec.name(), "spec");
    let found = ns.work_spec("spec").expect("work_spec");
    assert_eq!(found.name(), "spec");
    assert_eq!(found.data().expect("data"), dict);
    assert_eq!(ns.work_spec_names().expect("names"), vec!["spec"]);

    ns.destroy_work_spec("spec").expect("destroy_work_spec");
    assert!(matches!(
        ns.work_spec("spec"),
        Err(Error::NoSuchWorkSpec { name }) if name == "spec"
    ));
    assert!(ns.work_spec_names().expect("names").is_empty());
    assert!(matches!(
        ns.destroy_work_spec("spec"),
        Err(Error::NoSuchWorkSpec { name }) if name == "spec"
    ));
}

/// `work_spec_names()` is sorted whatever the creation order.
pub fn work_spec_names_are_sorted(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    for name in ["charlie", "alpha", "bravo", "Zulu"] {
        fx.spec(name, &[]);
    }
    assert_eq!(
        fx.namespace.work_spec_names().expect("names"),
        vec!["Zulu", "alpha", "bravo", "charlie"]
    );
}

/// Setting a definition for an existing name replaces it and keeps the units.
pub fn set_work_spec_replaces_definition(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[("foo", Value::Text("one".into()))]);
    fx.unit(&spec, "unit");
    let replacement = definition("spec", &[("bar", Value::Integer(2))]);
    let again = fx
        .namespace
        .set_work_spec(replacement.clone())
        .expect("set_work_spec again");
    assert_eq!(again.data().expect("data"), replacement);
    assert_eq!(spec.data().expect("old handle sees it"), replacement);
    assert_eq!(fx.namespace.work_spec_names().expect("names"), vec!["spec"]);
    let units = again.work_units(&WorkUnitQuery::all()).expect("units");
    assert_eq!(units.len(), 1);
    assert_eq!(units[0].name(), "unit");
}

/// Two namespaces with same-named specs, units and workers do not share them.
pub fn namespaces_are_isolated(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let other = fx
        .coordinate
        .namespace(&unique_name("other"))
        .expect("other namespace");
    let mine = fx.spec("spec", &[("which", Value::Text("mine".into()))]);
    let theirs = other
        .set_work_spec(definition(
            "spec",
            &[("which", Value::Text("theirs".into()))],
        ))
        .expect("their spec");
    fx.unit(&mine, "only-mine");
    theirs
        .add_work_unit("only-theirs", Data::new(), WorkUnitMeta::default())
        .expect("their unit");
    fx.worker("only-my-worker");

    let mine_again = fx.namespace.work_spec("spec").expect("my spec");
    assert_eq!(
        mine_again.data().expect("data").get("which"),
        Some(&Value::Text("mine".into()))
    );
    let names = |spec: &std::sync::Arc<dyn coordinate_api::WorkSpec>| -> Vec<String> {
        spec.work_units(&WorkUnitQuery::all())
            .expect("units")
            .iter()
            .map(|u| u.name().to_owned())
            .collect()
    };
    assert_eq!(names(&mine_again), vec!["only-mine"]);
    assert_eq!(names(&theirs), vec!["only-theirs"]);
    assert!(other.workers().expect("their workers").is_empty());

    // Destroying one namespace leaves the other intact.
    other.destroy().expect("destroy other");
    assert_eq!(names(&mine_again), vec!["only-mine"]);
}
