//! Actions on a work spec: pause, resume, priority and weight.

use super::{Form, Outcome, Refusal};
use crate::dashboard::view::shown;
use crate::routes::support::store;
use crate::store::StoreCall;

/// Pauses (`pause`) or resumes the form's spec.
pub async fn pause(call: StoreCall, form: &Form, pause: bool) -> Result<Outcome, Refusal> {
    let (ns, spec) = names(form)?;
    let what = format!(
        "{} work spec {} in namespace {}",
        if pause { "paused" } else { "resumed" },
        shown(&spec),
        shown(&ns)
    );
    call.run(move |s| {
        let (_, handle) = s.work_spec(&ns, &spec)?;
        let mut meta = handle.meta(false).map_err(store)?;
        meta.paused = pause;
        handle.set_meta(meta).map_err(store)
    })
    .await?;
    Ok(Outcome::Done(what))
}

/// Sets the spec's priority and weight.
pub async fn set_meta(call: StoreCall, form: &Form) -> Result<Outcome, Refusal> {
    let (ns, spec) = names(form)?;
    let number = |key: &str| -> Result<i32, Refusal> {
        let text = form.required(key)?.trim();
        text.parse()
            .map_err(|_| Refusal::Bad(format!("{key} {text:?} is not a whole number")))
    };
    let (priority, weight) = (number("priority")?, number("weight")?);
    let what = format!(
        "set work spec {} in namespace {} to priority {priority}, weight {weight}",
        shown(&spec),
        shown(&ns)
    );
    call.run(move |s| {
        let (_, handle) = s.work_spec(&ns, &spec)?;
        let mut meta = handle.meta(false).map_err(store)?;
        meta.priority = priority;
        meta.weight = weight;
        handle.set_meta(meta).map_err(store)
    })
    .await?;
    Ok(Outcome::Done(what))
}

/// The form's namespace and spec.
pub fn names(form: &Form) -> Result<(String, String), Refusal> {
    Ok((
        form.required("namespace")?.to_owned(),
        form.required("spec")?.to_owned(),
    ))
}
