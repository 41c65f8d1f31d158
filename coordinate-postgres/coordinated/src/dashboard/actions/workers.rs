//! Releasing a dead worker's attempts, by `coordinate_api::operate`'s
//! rule (as `coordinate workers release` does): its active attempts and
//! its children's are expired, so their units are available at once, and
//! the workers marked inactive. Only a worker whose report has run out
//! (or that was deactivated) qualifies: a live one would lose its leases
//! mid-work, and the dashboard has no `--force`.

use chrono::Utc;
use coordinate_api::operate::ReleasePlan;
use coordinate_api::Error;

use super::{Form, Outcome, Refusal};
use crate::dashboard::view::shown;
use crate::routes::support::store;
use crate::store::StoreCall;

/// Releases the form's worker.
pub async fn release(call: StoreCall, form: &Form) -> Result<Outcome, Refusal> {
    let ns = form.required("namespace")?.to_owned();
    let worker = form.required("worker")?.to_owned();
    let what = format!("of worker {} in namespace {}", shown(&worker), shown(&ns));
    let released = call
        .run(move |s| {
            let (_, handle) = s.worker(&ns, &worker)?;
            let plan = match ReleasePlan::new(handle, false, Utc::now()) {
                Ok(plan) => plan,
                Err(Error::InvalidInput { why, .. }) => return Ok(Err(why)),
                Err(error) => return Err(store(error)),
            };
            let children = plan.children();
            let released = plan.carry_out().map_err(store)?;
            Ok(Ok((released, children)))
        })
        .await?;
    match released {
        Ok((released, children)) => Ok(Outcome::Done(format!(
            "released {released} attempt(s) {what}{}",
            match children {
                0 => String::new(),
                n => format!(" and its {n} child worker(s)"),
            }
        ))),
        Err(why) => Err(Refusal::NotApplicable(why)),
    }
}
