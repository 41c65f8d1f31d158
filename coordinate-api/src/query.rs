//! Arguments that select work units and ask for work.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::status::WorkUnitStatus;

/// Selects work units of one work spec. Every condition given must hold;
/// results come in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkUnitQuery {
    /// Only units with one of these names (all units if empty).
    pub names: Vec<String>,
    /// Only units in one of these statuses (any status if empty).
    pub statuses: Vec<WorkUnitStatus>,
    /// Only units whose names sort after this one (for paging).
    pub previous_name: Option<String>,
    /// At most this many units (no limit if `None`).
    pub limit: Option<usize>,
}

impl WorkUnitQuery {
    /// Every unit.
    pub fn all() -> Self {
        WorkUnitQuery::default()
    }

    /// Units with these names.
    pub fn names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        WorkUnitQuery {
            names: names.into_iter().map(Into::into).collect(),
            ..WorkUnitQuery::default()
        }
    }

    /// Units in these statuses.
    pub fn statuses(statuses: impl IntoIterator<Item = WorkUnitStatus>) -> Self {
        WorkUnitQuery {
            statuses: statuses.into_iter().collect(),
            ..WorkUnitQuery::default()
        }
    }

    /// Whether a unit with this name and status matches, ignoring `limit`.
    pub fn matches(&self, name: &str, status: WorkUnitStatus) -> bool {
        (self.names.is_empty() || self.names.iter().any(|n| n == name))
            && (self.statuses.is_empty() || self.statuses.contains(&status))
            && self.previous_name.as_deref().is_none_or(|prev| name > prev)
    }
}

/// What a worker asks for when it wants work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRequest {
    /// Memory the worker has free (informational).
    pub available_gb: f64,
    /// How long the attempts' leases last before they expire.
    pub lifetime: Duration,
    /// Most work units wanted; 0 is taken as 1.
    pub number_of_work_units: usize,
    /// Only work from these work specs (any if empty).
    pub work_specs: Vec<String>,
    /// Only work specs with one of these runtimes (any if empty).
    pub runtimes: Vec<String>,
}

/// Lease of a default [`AttemptRequest`]: 15 minutes.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);

impl Default for AttemptRequest {
    /// One unit from any work spec, leased for 15 minutes.
    fn default() -> Self {
        AttemptRequest {
            available_gb: 0.0,
            lifetime: DEFAULT_LIFETIME,
            number_of_work_units: 1,
            work_specs: Vec::new(),
            runtimes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_matching() {
        let query = WorkUnitQuery {
            names: vec!["b".into(), "c".into()],
            statuses: vec![WorkUnitStatus::Available],
            previous_name: Some("b".into()),
            limit: None,
        };
        assert!(query.matches("c", WorkUnitStatus::Available));
        assert!(!query.matches("b", WorkUnitStatus::Available));
        assert!(!query.matches("c", WorkUnitStatus::Pending));
        assert!(!query.matches("d", WorkUnitStatus::Available));
        assert!(WorkUnitQuery::all().matches("anything", WorkUnitStatus::Failed));
    }

    #[test]
    fn default_request_is_one_unit_for_fifteen_minutes() {
        let req = AttemptRequest::default();
        assert_eq!(req.number_of_work_units, 1);
        assert_eq!(req.lifetime, Duration::from_secs(900));
        assert!(req.work_specs.is_empty() && req.runtimes.is_empty());
    }
}
