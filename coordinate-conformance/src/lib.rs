//! The behaviour of a `coordinate` backend, specified once as tests.
//!
//! Every case is a plain public function that takes a [`Backend`]: a
//! factory that, given a [`MockClock`] and a scheduler seed, returns a
//! fresh `Arc<dyn Coordinate>` driven by that clock, whose scheduler draws
//! from a generator started from that seed. A backend crate runs the
//! whole suite from its `tests/conformance.rs` in two lines, and
//! [`conformance_tests!`] generates one `#[test]` per case, so test runners
//! list and filter every case by name (`namespace::destroy_hides_specs`,
//! …) for every backend:
//!
//! ```ignore
//! use std::sync::Arc;
//! use coordinate_api::{Coordinate, MockClock};
//!
//! fn backend(clock: Arc<MockClock>, seed: u64) -> Arc<dyn Coordinate> {
//!     Arc::new(coordinate_memory::MemoryCoordinate::with_clock(clock).with_scheduler_seed(seed))
//! }
//!
//! coordinate_conformance::conformance_tests!(backend);
//! ```
//!
//! Each case works in a namespace of its own with a unique name and its own
//! clock (see [`Fixture`]), so cases run in parallel against one shared
//! database, and it destroys that namespace when it ends. `CASES.md` in this
//! crate lists the cases by topic.
#![warn(missing_docs)]

use std::sync::Arc;

use coordinate_api::{Coordinate, MockClock};

mod fixture;
mod retention_fixture;

pub mod attempt;
pub mod attempt_lifecycle;
pub mod bad_input;
pub mod batch_add;
pub mod cancellation;
pub mod chaining;
pub mod chaining_output;
pub mod clock;
pub mod completion;
pub mod concurrency;
pub mod data;
pub mod data_limits;
pub mod gone;
pub mod isolation;
pub mod namespace;
pub mod retention;
pub mod retention_workers;
pub mod scheduling;
pub mod scheduling_continuous;
pub mod scheduling_units;
pub mod summary;
pub mod wakeup;
pub mod work_spec;
pub mod work_unit;
pub mod work_unit_query;
pub mod worker;

pub use crate::fixture::{definition, unique_name, Fixture, DEFAULT_SEED};

/// Makes the coordinate a case runs against: called once per case (more
/// than once for cases that simulate several processes), always with the
/// clock the case controls and the seed its scheduler must draw from (see
/// [`Fixture::seed`]), so that a case's draws repeat when it is run again.
pub type Backend<'a> = &'a dyn Fn(Arc<MockClock>, u64) -> Arc<dyn Coordinate>;

/// Every case as `module::case`, in the order [`conformance_tests!`]
/// generates them.
pub const CASES: &[&str] = __for_each_case!(names);

/// Generates one `#[test]` per conformance case, grouped in one module per
/// topic, running against the backend that `$backend` (an expression of
/// type `fn(Arc<MockClock>, u64) -> Arc<dyn Coordinate>`, or any closure of
/// that shape; the `u64` is the scheduler seed) makes.
#[macro_export]
macro_rules! conformance_tests {
    ($backend:expr) => {
        fn __conformance_backend(
            clock: ::std::sync::Arc<::coordinate_api::MockClock>,
            seed: u64,
        ) -> ::std::sync::Arc<dyn ::coordinate_api::Coordinate> {
            ($backend)(clock, seed)
        }
        $crate::__for_each_case!(tests);
    };
}

/// The case list, written once; expands to the tests or to [`CASES`].
#[doc(hidden)]
#[macro_export]
macro_rules! __for_each_case {
    ($what:ident) => {
        $crate::__expand_cases! { $what
            namespace {
                namespace_has_its_name,
                namespaces_lists_the_namespace,
                a_working_store_is_ready,
                namespace_get_is_get_or_create,
                destroy_removes_namespace,
                spec_create_destroy,
                work_spec_names_are_sorted,
                set_work_spec_replaces_definition,
                namespaces_are_isolated,
            }
            work_spec {
                change_spec_data,
                default_meta,
                prefilled_meta,
                set_data_sets_meta,
                nice_weight,
                wrong_type_keys_are_ignored,
                set_meta_changes_settable_fields,
                set_meta_cannot_become_continuous,
                set_meta_toggles_continuous,
                set_data_resets_set_meta,
                set_data_keeps_future_next_continuous,
                meta_counts,
            }
            work_unit {
                trivial_work_unit_flow,
                new_unit_state,
                work_unit_data,
                add_work_unit_bleedover,
                recreate_work_units,
                status_follows_active_attempt,
                missing_work_unit,
                unit_meta_round_trip,
                clear_active_attempt,
            }
            work_unit_query {
                query_pages_in_name_order,
                query_by_status,
                query_by_name,
                status_reads_see_expired_leases,
                delete_work_units_counts,
                delete_units_drops_their_attempts,
                count_work_unit_status,
                set_priorities_by_query,
                adjust_priorities_by_query,
            }
            data {
                spec_data_round_trips,
                spec_empty_list_stays_a_list,
                unit_data_round_trips,
                attempt_data_round_trips,
                worker_data_round_trips,
                unit_shows_finished_attempt_data,
                unit_shows_failed_attempt_data,
                data_is_replaced_not_merged,
                deep_and_large_data_round_trips,
            }
            summary {
                summarize_single_spec,
                summary_spans_work_specs,
                coordinate_summary_covers_namespaces,
                summary_drops_deleted_units,
                summary_follows_the_clock,
            }
            batch_add {
                batch_add_matches_repeated_add,
                batch_add_rejects_whole_batch,
            }
            bad_input {
                spec_definition_errors,
                set_data_name_errors,
                bad_unit_names,
                bad_namespace_and_worker_names,
                non_finite_priorities,
                absurd_durations,
                hostile_names_round_trip,
                wildcards_match_literally,
                long_names,
            }
            clock {
                claim_after_clock_set_back_starts_after_previous_end,
            }
            data_limits {
                oversized_data_is_refused_everywhere,
                data_at_the_size_limit_is_kept,
                too_deep_data_is_refused,
            }
            attempt {
                attempt_lifetime,
                attempt_metadata,
                attempt_expiration,
                retry_delay,
                retry_sets_not_before,
                retry_without_delay,
                attempt_fractional_start,
                max_retries,
                max_retries_multi,
                max_retries_multi_batch,
                max_retries_counts_retries,
                unlimited_retries_by_default,
                expired_unit_goes_to_another_worker,
                unit_data_follows_active_attempt,
            }
            attempt_lifecycle {
                renew_in_every_status,
                expire_in_every_status,
                finish_in_every_status,
                finish_without_data_in_every_status,
                fail_in_every_status,
                retry_in_every_status,
                none_data_keeps_attempt_data,
                renew_extends_lease_from_now,
                stale_attempt_leaves_new_lease_alone,
                expiry_empties_worker_active_list,
            }
            worker {
                worker_ancestry,
                worker_adoption,
                clear_parent,
                children_in_name_order,
                bad_parents_rejected,
                worker_metadata,
                update_round_trips,
                deactivate_child,
                worker_get_or_create,
                worker_attempts,
                child_attempts_of_many_children,
                make_attempt_on_unit,
                make_attempt_takes_over,
                make_attempt_other_namespace,
                attempts_in_start_order,
            }
            scheduling {
                two_work_specs_basic,
                max_running,
                max_running_frees_expired_leases,
                max_getwork,
                paused_spec_gives_no_work,
                request_specific_spec,
                by_runtime,
                spec_priority_wins,
                weights_share_pending_work,
                weights_share_finished_work,
            }
            scheduling_units {
                unit_order_by_name,
                unit_priority_ctor,
                unit_priority_set,
                batch_order_and_uniqueness,
                batch_order_ignores_insertion_order,
                not_before_delayed_status,
                not_before_attempt,
                not_before_priority,
                delayed_output,
            }
            scheduling_continuous {
                continuous_creates_units,
                continuous_interval,
                one_day_interval,
                continuous_unit_is_named_after_the_clock,
                continuous_prefers_real_units,
                continuous_waits_for_pending,
                paused_continuous_makes_nothing,
            }
            chaining {
                work_unit_chaining,
                chaining_mixed,
                chaining_two_step,
                chaining_expiry,
                chaining_duplicate,
                chaining_to_missing_spec,
                no_then_no_chaining,
                chaining_prefers_finish_data,
                only_finish_chains,
                finish_after_fail_chains,
                chaining_into_own_spec,
                chaining_follows_current_definition,
            }
            completion {
                batch_equals_single_calls,
                batch_refusals_leave_the_rest_applied,
                empty_batches,
                batch_refuses_other_namespaces,
                batch_renewal_equals_single_renewals,
            }
            chaining_output {
                chaining_full_items,
                chaining_tuple_output,
                chaining_byte_string_names,
                chaining_skips_bad_items,
                chaining_ignores_unusable_output,
                chaining_replaces_existing_unit,
            }
            gone {
                spec_deleted_gone,
                spec_in_namespace_gone,
                unit_deleted_gone,
                unit_spec_deleted_gone,
                unit_namespace_destroyed_gone,
                attempt_gone,
                attempt_spec_destroyed_gone,
                everything_gone_with_namespace,
                namespace_destroyed,
                recreated_namespace_is_new,
                recreated_spec_is_new,
                recreated_unit_is_new,
                lookups_after_delete_are_no_such,
                deleted_units_leave_worker_lists,
                make_attempt_on_deleted_unit,
                destroy_touches_only_its_namespace,
            }
            isolation {
                lookups_stay_in_namespace,
                requests_stay_in_namespace,
                changes_stay_in_namespace,
                summaries_stay_in_namespace,
                attempts_stay_in_namespace,
                expiry_stays_in_namespace,
                handles_of_another_coordinate_are_refused,
            }
            concurrency {
                concurrent_execution,
                concurrent_batches,
                add_same_unit,
                concurrent_get_or_create,
                racing_completions,
                claims_race_unit_deletion,
                claims_race_spec_destruction,
            }
            retention {
                prune_removes_only_old_terminal_units,
                prune_cutoff_is_exclusive,
                pruned_handles_are_gone,
                chained_units_stay,
                prune_respects_the_limit,
                prune_takes_the_oldest_first,
                prune_by_work_spec,
                bad_prune_requests_change_nothing,
                count_prunable_is_a_dry_run,
                prune_destroyed_namespace_is_gone,
            }
            retention_workers {
                prune_removes_only_dead_workers,
                workers_go_with_their_last_units,
                prune_limit_counts_workers_too,
            }
            wakeup {
                an_added_unit_wakes_a_waiter,
                unpausing_a_spec_wakes_a_waiter,
                a_batch_add_wakes_a_waiter,
                a_retry_without_delay_and_a_release_wake_a_waiter,
                an_expiry_by_someone_wakes_a_waiter,
                nothing_happening_times_out_and_other_namespaces_do_not_wake,
            }
            cancellation {
                expiring_a_held_attempt_tells_its_holders,
                clearing_deleting_or_re_adding_a_held_unit_tells_its_holders,
                an_attempt_taken_between_two_waits_wakes_the_next,
                ending_attempts_and_adding_units_tell_no_holder,
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __expand_cases {
    (tests $($module:ident { $($case:ident),* $(,)? })*) => {
        $(
            mod $module {
                $(
                    #[test]
                    fn $case() {
                        $crate::$module::$case(&super::__conformance_backend);
                    }
                )*
            }
        )*
    };
    (names $($module:ident { $($case:ident),* $(,)? })*) => {
        &[$($(concat!(stringify!($module), "::", stringify!($case)),)*)*]
    };
}
