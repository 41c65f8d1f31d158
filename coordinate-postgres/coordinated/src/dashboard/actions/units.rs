//! Actions on work units: retry (one, a selection, every failed one of a
//! spec), set priority, delete (a selection or every unit of a status,
//! after a confirmation that states the count), cancel a pending attempt.

use askama::Template;
use coordinate_api::operate::retry_failed_units;
use coordinate_api::{AttemptStatus, Error, WorkUnitQuery, WorkUnitStatus};

use super::spec::names;
use super::{Form, Outcome, Refusal};
use crate::dashboard::view::{count, shown, Chrome};
use crate::routes::support::store;
use crate::store::StoreCall;

/// Names listed on a confirmation page at most.
const LISTED: usize = 20;

/// The form's selected units: at least one.
fn selected(form: &Form) -> Result<Vec<String>, Refusal> {
    let units = form.all("unit");
    if units.is_empty() {
        return Err(Refusal::NotApplicable("no unit was selected".to_owned()));
    }
    Ok(units)
}

/// "unit "a"" or "3 units".
fn described(units: &[String]) -> String {
    match units {
        [one] => format!("unit {}", shown(one)),
        many => format!("{} units", count(many.len())),
    }
}

/// Every failed unit of the spec becomes available again (its failed
/// attempt stays in its history), by `coordinate_api::operate`'s rule, as
/// `coordinate units retry --failed`.
pub async fn retry_failed(call: StoreCall, form: &Form) -> Result<Outcome, Refusal> {
    let (ns, spec) = names(form)?;
    let what = format!("of work spec {} in namespace {}", shown(&spec), shown(&ns));
    let retried = call
        .run(move |s| {
            let (_, handle) = s.work_spec(&ns, &spec)?;
            retry_failed_units(&*handle, None).map_err(store)
        })
        .await?;
    Ok(Outcome::Done(format!(
        "retried {} failed unit(s) {what}",
        count(retried)
    )))
}

/// The selected units, all of which must have failed, become available.
pub async fn retry_units(call: StoreCall, form: &Form) -> Result<Outcome, Refusal> {
    let (ns, spec) = names(form)?;
    let units = selected(form)?;
    let what = format!(
        "retried {} of work spec {}",
        described(&units),
        shown(&spec)
    );
    let retried = call
        .run(move |s| {
            let (_, handle) = s.work_spec(&ns, &spec)?;
            match retry_failed_units(&*handle, Some(&units)) {
                Err(Error::InvalidInput { why, .. }) => Ok(Err(why)),
                other => other.map(Ok).map_err(store),
            }
        })
        .await?;
    match retried {
        Ok(_) => Ok(Outcome::Done(what)),
        Err(why) => Err(Refusal::NotApplicable(why)),
    }
}

/// Sets the selected units' priority.
pub async fn prioritize(call: StoreCall, form: &Form) -> Result<Outcome, Refusal> {
    let (ns, spec) = names(form)?;
    let units = selected(form)?;
    let text = form.required("unit_priority")?.trim().to_owned();
    let priority: f64 = text
        .parse()
        .ok()
        .filter(|p: &f64| p.is_finite())
        .ok_or_else(|| Refusal::Bad(format!("priority {text:?} is not a finite number")))?;
    let what = format!(
        "set the priority of {} of work spec {} to {priority}",
        described(&units),
        shown(&spec)
    );
    call.run(move |s| {
        let (_, handle) = s.work_spec(&ns, &spec)?;
        handle
            .set_work_unit_priorities(&WorkUnitQuery::names(units), priority)
            .map_err(store)
    })
    .await?;
    Ok(Outcome::Done(what))
}

/// Expires the unit's pending attempt, as `coordinate cancel` does.
pub async fn cancel(call: StoreCall, form: &Form) -> Result<Outcome, Refusal> {
    let (ns, spec) = names(form)?;
    let unit = form.required("unit")?.to_owned();
    let what = format!(
        "cancelled the pending attempt of unit {} of work spec {}",
        shown(&unit),
        shown(&spec)
    );
    let cancelled = call
        .run(move |s| {
            let (_, handle) = s.work_unit(&ns, &spec, &unit)?;
            let Some(attempt) = handle.active_attempt().map_err(store)? else {
                return Ok(false);
            };
            if attempt.status().map_err(store)? != AttemptStatus::Pending {
                return Ok(false);
            }
            match attempt.expire(None) {
                Ok(()) => Ok(true),
                Err(Error::NotPending { .. }) => Ok(false),
                Err(error) => Err(store(error)),
            }
        })
        .await?;
    if cancelled {
        Ok(Outcome::Done(what))
    } else {
        Err(Refusal::NotApplicable(
            "the unit has no pending attempt to cancel (it ended meanwhile?)".to_owned(),
        ))
    }
}

/// The confirmation page of a deletion.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    /// The frame.
    pub chrome: Chrome,
    /// "Delete 12 failed units of work spec "s"?"
    pub question: String,
    /// Why the count is asked again, if it changed.
    pub changed: Option<String>,
    /// Units named by the selection, the first twenty.
    pub listed: Vec<String>,
    /// Selected units not listed.
    pub unlisted: usize,
    /// The form to submit again, with the confirmation.
    pub fields: Vec<(String, String)>,
    /// The count the confirmation stands for.
    pub expected: usize,
    /// Where "cancel" goes.
    pub back: String,
}

/// What a deletion selects: named units, or every unit of a status.
enum Selection {
    Named(Vec<String>),
    Status(WorkUnitStatus),
}

impl Selection {
    fn query(&self) -> WorkUnitQuery {
        match self {
            Selection::Named(names) => WorkUnitQuery::names(names.iter().cloned()),
            Selection::Status(status) => WorkUnitQuery::statuses([*status]),
        }
    }
}

/// Deletes the selection once confirmed for the count it has now: the
/// first request asks, stating the count; the confirmation deletes only
/// if the count is still the one confirmed (else it asks again).
pub async fn delete(
    call: StoreCall,
    form: &Form,
    csrf: &str,
    prefix: &str,
    back: &str,
) -> Result<Outcome, Refusal> {
    let (ns, spec) = names(form)?;
    let selection = if form.one("action") == Some("delete-status") {
        let text = form.required("status")?;
        Selection::Status(
            WorkUnitStatus::ALL
                .into_iter()
                .find(|s| s.as_str() == text)
                .ok_or_else(|| Refusal::Bad(format!("{text:?} is not a work unit status")))?,
        )
    } else {
        Selection::Named(selected(form)?)
    };
    let expected: Option<usize> =
        match form.one("confirm") {
            Some("yes") => Some(form.required("expected")?.parse().map_err(|_| {
                Refusal::Bad("the confirmation's count is not a number".to_owned())
            })?),
            _ => None,
        };
    let query = selection.query();
    let (n, s) = (ns.clone(), spec.clone());
    // Count, and delete only if the count is the one confirmed.
    let (now, deleted) = call
        .run(move |scope| {
            let (_, handle) = scope.work_spec(&n, &s)?;
            let now = match &query.statuses[..] {
                [status] if query.names.is_empty() => handle
                    .count_work_unit_status()
                    .map_err(store)?
                    .get(status)
                    .copied()
                    .unwrap_or(0),
                _ => handle.work_units(&query).map_err(store)?.len(),
            };
            if expected != Some(now) {
                return Ok((now, None));
            }
            Ok((now, Some(handle.delete_work_units(&query).map_err(store)?)))
        })
        .await?;
    let what = match &selection {
        Selection::Named(names) => described(names),
        Selection::Status(status) => format!("{} unit(s) with status {status}", count(now)),
    };
    if let Some(deleted) = deleted {
        let done = format!(
            "deleted {} unit(s) of work spec {} in namespace {}",
            count(deleted),
            shown(&spec),
            shown(&ns)
        );
        return Ok(match form.one("after_delete") {
            Some(to) => Outcome::DoneElsewhere(done, to.to_owned()),
            None => Outcome::Done(done),
        });
    }
    if now == 0 {
        return Err(Refusal::NotApplicable(format!(
            "no unit to delete: {what} now"
        )));
    }
    let (listed, unlisted) = match &selection {
        Selection::Named(names) => (
            names.iter().take(LISTED).map(|n| shown(n)).collect(),
            names.len().saturating_sub(LISTED),
        ),
        Selection::Status(_) => (Vec::new(), 0),
    };
    let mut fields: Vec<(String, String)> = form
        .pairs()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "confirm" | "expected" | "csrf" | "action"))
        .cloned()
        .collect();
    fields.push(("csrf".to_owned(), csrf.to_owned()));
    fields.push(("confirm".to_owned(), "yes".to_owned()));
    fields.push(("expected".to_owned(), now.to_string()));
    let action = form.one("action").unwrap_or("delete-units").to_owned();
    fields.push(("action".to_owned(), action));
    Ok(Outcome::Confirm(Box::new(ConfirmPage {
        chrome: Chrome::plain("Confirm deletion", prefix, csrf, false),
        question: format!(
            "Delete {what} of work spec {} in namespace {}? This cannot be undone.",
            shown(&spec),
            shown(&ns)
        ),
        changed: expected.map(|before| {
            format!("The selection changed since you confirmed {before}: it is {now} now.")
        }),
        listed,
        unlisted,
        fields,
        expected: now,
        back: back.to_owned(),
    })))
}
