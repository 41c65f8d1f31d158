//! Releasing a dead worker's attempts: as `coordinate workers release`
//! does, its active attempts and its children's are expired, so their
//! units are available at once, and the workers marked inactive. Only a
//! worker whose report has run out (or that was deactivated) qualifies:
//! a live one would lose its leases mid-work.

use std::sync::Arc;

use chrono::Utc;
use coordinate_api::{Error, Worker};

use super::{Form, Outcome, Refusal};
use crate::dashboard::view::shown;
use crate::routes::support::store;
use crate::store::StoreCall;

/// Releases the form's worker.
pub async fn release(call: StoreCall, form: &Form) -> Result<Outcome, Refusal> {
    let ns = form.required("namespace")?.to_owned();
    let worker = form.required("worker")?.to_owned();
    let released = call
        .run(move |s| {
            let (_, root) = s.worker(&ns, &worker)?;
            let mut family: Vec<Arc<dyn Worker>> = vec![root];
            let mut index = 0;
            while index < family.len() {
                let children = family[index].children().map_err(store)?;
                family.extend(children);
                index += 1;
            }
            let now = Utc::now();
            for member in &family {
                if member.active().map_err(store)? && member.expiration().map_err(store)? > now {
                    return Ok(Err(format!(
                        "worker {} is still reporting (until {}): it may be running; \
                         nothing released",
                        shown(member.name()),
                        crate::dashboard::view::time(member.expiration().map_err(store)?)
                    )));
                }
            }
            let mut released = 0;
            for member in &family {
                for attempt in member.active_attempts().map_err(store)? {
                    match attempt.expire(None) {
                        Ok(()) => released += 1,
                        // It ended since the listing: nothing to give back.
                        Err(Error::NotPending { .. }) => {}
                        Err(error) => return Err(store(error)),
                    }
                }
            }
            for member in &family {
                member.deactivate().map_err(store)?;
            }
            Ok(Ok((released, family.len(), ns, worker)))
        })
        .await?;
    match released {
        Ok((released, members, ns, worker)) => Ok(Outcome::Done(format!(
            "released {released} attempt(s) of worker {}{} in namespace {}",
            shown(&worker),
            match members - 1 {
                0 => String::new(),
                n => format!(" and its {n} child worker(s)"),
            },
            shown(&ns)
        ))),
        Err(why) => Err(Refusal::NotApplicable(why)),
    }
}
