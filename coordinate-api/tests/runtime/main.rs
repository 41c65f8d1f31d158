//! The worker runtime, driven through its real threads against the memory
//! backend. Intervals are short and margins generous: these tests check
//! what happens, not how fast.

mod common;
mod completions;
mod leases;
mod outcomes;
mod stopping;
