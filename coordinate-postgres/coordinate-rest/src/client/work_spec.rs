//! The work spec handle.

use std::collections::BTreeMap;
use std::sync::Arc;

use coordinate_api::backend::validate::{
    validate_name, validate_priority, validate_work_unit_batch,
};
use coordinate_api::{
    Data, Error, NewWorkUnit, ObjectKind, Result, Summary, WorkSpec, WorkSpecMeta, WorkUnit,
    WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};
use ureq::http::Method;

use super::http::decode;
use super::namespace::{as_gone, RestNamespace};
use super::url::{fill, with_query};
use super::{summary, RestWorkUnit};
use crate::wire::additions::{self, append_segment, AddWorkUnits, NewWorkUnitJson};
use crate::wire::shapes;
use crate::wire::values::{
    parse_work_unit_status, query_to_pairs, WorkSpecMetaJson, WorkUnitCountsJson, WorkUnitMetaJson,
};
use crate::wire::DataDict;

/// A work spec on a server.
#[derive(Debug, Clone)]
pub struct RestWorkSpec {
    pub(crate) namespace: Arc<RestNamespace>,
    pub(crate) repr: Arc<shapes::WorkSpec>,
}

impl RestWorkSpec {
    pub(crate) fn new(namespace: Arc<RestNamespace>, repr: shapes::WorkSpec) -> Self {
        RestWorkSpec {
            namespace,
            repr: Arc::new(repr),
        }
    }

    fn own(&self, error: Error) -> Error {
        let name = &self.repr.name;
        as_gone(error, ObjectKind::WorkSpec, name, Some(name), None)
    }

    fn unit(&self, short: shapes::WorkUnitShort) -> Arc<RestWorkUnit> {
        Arc::new(RestWorkUnit::new(
            Arc::new(self.clone()),
            short.name,
            short.url,
        ))
    }

    fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T> {
        self.namespace.shared.get(url).map_err(|e| self.own(e))
    }

    fn priorities(&self, template: &str, query: &WorkUnitQuery, priority: f64) -> Result<()> {
        let body = shapes::WorkUnit {
            meta: Some(WorkUnitMetaJson {
                priority,
                not_before: None,
            }),
            ..shapes::WorkUnit::default()
        };
        let url = with_query(template, &query_to_pairs(query));
        self.namespace
            .shared
            .command(Method::POST, &url, &body)
            .map_err(|e| self.own(e))
    }
}

impl WorkSpec for RestWorkSpec {
    fn name(&self) -> &str {
        &self.repr.name
    }

    fn data(&self) -> Result<Data> {
        let repr: shapes::WorkSpec = self.get(&self.repr.url)?;
        repr.data
            .map_or_else(|| Ok(Data::new()), |data| data.decode())
    }

    fn set_data(&self, data: Data) -> Result<()> {
        let body = shapes::WorkSpec {
            data: Some(DataDict::encode(&data)?),
            ..shapes::WorkSpec::default()
        };
        self.namespace
            .shared
            .command(Method::PUT, &self.repr.url, &body)
            .map_err(|e| self.own(e))
    }

    fn meta(&self, with_counts: bool) -> Result<WorkSpecMeta> {
        let url = with_query(&self.repr.meta_url, &[("counts", with_counts.to_string())]);
        let meta: WorkSpecMetaJson = self.get(&url)?;
        Ok(meta.into())
    }

    fn set_meta(&self, meta: WorkSpecMeta) -> Result<()> {
        let url = with_query(&self.repr.meta_url, &[]);
        self.namespace
            .shared
            .command(Method::PUT, &url, &WorkSpecMetaJson::from(meta))
            .map_err(|e| self.own(e))
    }

    fn add_work_unit(
        &self,
        name: &str,
        data: Data,
        meta: WorkUnitMeta,
    ) -> Result<Arc<dyn WorkUnit>> {
        validate_name("work unit name", name)?;
        validate_priority("priority", meta.priority)?;
        let body = shapes::WorkUnit {
            name: name.to_owned(),
            data: Some(DataDict::encode(&data)?),
            meta: Some(meta.into()),
            ..shapes::WorkUnit::default()
        };
        let short: shapes::WorkUnitShort = self
            .namespace
            .shared
            .call(Method::POST, &self.repr.work_units_url, &body)
            .map_err(|e| self.own(e))?;
        Ok(self.unit(short))
    }

    fn add_work_units(&self, units: Vec<NewWorkUnit>) -> Result<usize> {
        let units = validate_work_unit_batch(units, |_| Ok(()))?;
        let written = units.len();
        let work_units = units
            .into_iter()
            .map(|unit| {
                Ok(NewWorkUnitJson {
                    name: unit.name,
                    data: Some(DataDict::encode(&unit.data)?),
                    meta: Some(unit.meta.into()),
                })
            })
            .collect::<Result<_>>()?;
        let url = append_segment(&self.repr.url, additions::WORK_UNITS);
        self.namespace
            .shared
            .command(Method::POST, &url, &AddWorkUnits { work_units })
            .map_err(|e| self.own(e))?;
        Ok(written)
    }

    fn work_unit(&self, name: &str) -> Result<Arc<dyn WorkUnit>> {
        validate_name("work unit name", name)?;
        let url = fill(&self.repr.work_unit_url, "unit", name);
        let repr: shapes::WorkUnit = self.get(&url)?;
        Ok(self.unit(shapes::WorkUnitShort {
            url: repr.url,
            name: repr.name,
        }))
    }

    fn work_units(&self, query: &WorkUnitQuery) -> Result<Vec<Arc<dyn WorkUnit>>> {
        let url = with_query(&self.repr.work_unit_query_url, &query_to_pairs(query));
        let list: shapes::WorkUnitList = self.get(&url)?;
        Ok(list
            .work_units
            .into_iter()
            .map(|short| self.unit(short) as Arc<dyn WorkUnit>)
            .collect())
    }

    fn count_work_unit_status(&self) -> Result<BTreeMap<WorkUnitStatus, usize>> {
        let counts: WorkUnitCountsJson = self.get(&self.repr.work_unit_counts_url)?;
        let mut result = BTreeMap::new();
        for (name, count) in counts {
            let status = parse_work_unit_status(&name)
                .map_err(|why| Error::backend(coordinate_api::BackendErrorKind::Other, why))?;
            if let (Some(status), true) = (status, count > 0) {
                result.insert(status, count);
            }
        }
        Ok(result)
    }

    fn set_work_unit_priorities(&self, query: &WorkUnitQuery, priority: f64) -> Result<()> {
        validate_priority("priority", priority)?;
        self.priorities(&self.repr.work_unit_change_url, query, priority)
    }

    fn adjust_work_unit_priorities(&self, query: &WorkUnitQuery, adjustment: f64) -> Result<()> {
        validate_priority("priority", adjustment)?;
        self.priorities(&self.repr.work_unit_adjust_url, query, adjustment)
    }

    fn delete_work_units(&self, query: &WorkUnitQuery) -> Result<usize> {
        let url = with_query(&self.repr.work_unit_query_url, &query_to_pairs(query));
        let bytes = self
            .namespace
            .shared
            .send(Method::DELETE, &url, None, std::time::Duration::ZERO)
            .map_err(|e| self.own(e))?;
        let deleted: shapes::WorkUnitDeleted = decode(&bytes)?;
        Ok(deleted.deleted)
    }

    fn summarize(&self) -> Result<Summary> {
        Ok(summary(self.get(&self.repr.summary_url)?))
    }
}
