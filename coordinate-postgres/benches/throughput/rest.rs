//! The `rest` section (issue 21): claim + finish through client →
//! `coordinated` → PostgreSQL, each row measured right after the direct
//! `api/…` row of the same shape (`runs::claims` asks [`measures`]), so
//! that their ratio sees the same machine conditions; then the load row
//! (`load.rs`) on a server of its own.

use std::sync::Arc;

use anyhow::{Context, Result};
use coordinate_api::Coordinate;
use coordinate_rest::RestCoordinate;

use crate::api::Finishing;
use crate::coordinated::{Coordinated, Launcher};
use crate::report::{Row, RunInfo};
use crate::Config;

/// Whether the claim row of this shape runs through the server too: the
/// issue's `rest/b1/w1`, `/w4`, `/w8` (claim one, finish it) and
/// `rest/b100c/w4` (claim 100, one `complete_attempts`).
pub fn measures(threads: usize, batch: usize, finishing: Finishing) -> bool {
    matches!(
        (batch, finishing, threads),
        (1, Finishing::OneByOne, 1 | 4 | 8) | (100, Finishing::Batched, 4)
    )
}

/// How to start servers for the section, or `None` with the reason in the
/// report's notes: a missing row must not read as a forgotten one.
pub fn launcher(config: &Config, info: &mut RunInfo) -> Option<Launcher> {
    let Some(program) = &config.coordinated else {
        info.notes.push(
            "rest rows (client -> coordinated -> PostgreSQL) skipped: no --coordinated <path> \
             (`cargo xtask bench` builds the server and passes it)"
                .into(),
        );
        return None;
    };
    match Launcher::new(program, &config.backend) {
        Ok(launcher) => {
            if !config.runs("claims") {
                info.notes.push(
                    "rest rows without the claims section: no api rows of the same run to \
                     compare them with"
                        .into(),
                );
            }
            Some(launcher)
        }
        Err(why) => {
            info.notes.push(format!("rest rows skipped: {why}"));
            None
        }
    }
}

/// A server for the claim rows and a client of it.
pub struct Served {
    server: Coordinated,
    /// `RestCoordinate` on the server, shared by the row's workers as a
    /// direct row's threads share one `PostgresCoordinate`.
    pub coordinate: Arc<dyn Coordinate>,
    /// What each row cost in HTTP requests, by route, for the report's
    /// notes.
    pub notes: Vec<String>,
}

impl Served {
    /// Runs `measure` (which pushes one row) and adds to that row what
    /// it cost in HTTP requests per unit: the figure that says where a
    /// REST row's time goes, as commits per unit do for a direct one.
    pub fn counting(
        &mut self,
        rows: &mut Vec<Row>,
        measure: impl FnOnce(&Arc<dyn Coordinate>, &mut Vec<Row>) -> Result<()>,
    ) -> Result<()> {
        let before = self.server.requests()?;
        measure(&self.coordinate, rows)?;
        let during = self.server.requests()?.since(&before);
        let Some(row) = rows.last_mut().filter(|r| r.units > 0) else {
            return Ok(());
        };
        // The row's set-up and clean-up (namespace, spec, preload in
        // chunks, workers) go through the server too: a few requests in
        // all, which the breakdown by route shows apart.
        let units = row.units as f64;
        row.what.push_str(&format!(
            " ({:.2} HTTP requests/unit)",
            during.total() as f64 / units
        ));
        let routes: Vec<String> = during
            .by_route
            .iter()
            .map(|(route, n)| format!("{:.2} {route}", *n as f64 / units))
            .collect();
        self.notes.push(format!(
            "{}: HTTP requests per unit: {}",
            row.key,
            routes.join(", ")
        ));
        Ok(())
    }
}

/// Starts the server the claim rows go through, with its defaults.
pub fn serve(launcher: &Launcher) -> Result<Served> {
    let server = launcher.start(&[])?;
    let coordinate = RestCoordinate::new(&server.url).with_context(|| {
        format!(
            "connecting to coordinated at {}; its log:\n{}",
            server.url,
            server.log_tail()
        )
    })?;
    Ok(Served {
        server,
        coordinate: Arc::new(coordinate),
        notes: Vec::new(),
    })
}
