//! The Hammerwork conformance suite: every behaviour a [`Storage`] promises,
//! as tests that any backend runs with one macro call.
//!
//! In a backend crate's `tests/conformance.rs` (with `tokio` as a
//! dev-dependency), write an async factory that gives each test a fresh
//! database or schema, then call the macro:
//!
//! ```ignore
//! use hammerwork_testkit::provision::{postgres_url, unique_name, TestDb};
//!
//! async fn storage(test: &str) -> TestDb<MyStorage> {
//!     let name = unique_name(test);
//!     // create database/schema `name` on postgres_url(), connect, migrate ...
//!     TestDb::new(storage, name, async move { /* drop it */ })
//! }
//!
//! hammerwork_testkit::conformance_tests!(storage);
//! ```
//!
//! Each case becomes its own `#[tokio::test]`, named as in [`cases`], so
//! `cargo test claim_` runs the claim cases; one more,
//! `model_random_graphs_match_the_reference`, runs the property-based
//! [`model`] test. A failing test keeps its database
//! and prints its name.
//!
//! [`Storage`]: hammerwork_api::Storage

pub mod cases;
pub mod drive;
pub mod logged;
pub mod model;
pub mod provision;
pub mod stored;
mod support;

/// Expands to one `#[tokio::test]` per conformance case, each calling
/// `$factory(test_name).await` for a fresh [`provision::TestDb`].
#[macro_export]
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::conformance_tests!(@cases $factory;
            enqueue_get_round_trip,
            enqueue_bulk_in_one_call,
            enqueue_rejects_bad_input_writing_nothing,
            enqueue_duplicate_id_is_typed_error,
            enqueue_concurrent_singles_fail_alone,
            enqueue_over_size_limits_writes_nothing,
            claim_priority_then_schedule_order,
            claim_skips_delayed_until_due,
            claim_next_due_is_the_earliest_waiting_job,
            list_queues_names_each_queue_once,
            prune_deletes_finished_jobs_past_their_retention,
            prune_keeps_what_is_waited_on,
            prune_runs_until_nothing_is_left,
            prune_deletes_finished_workflows_whole,
            claim_respects_limit_and_queue,
            claim_paused_queue_gives_nothing_until_resumed,
            queue_name_with_nul_is_refused_or_empty,
            claim_concurrent_claimers_process_each_job_once,
            settle_completed_stores_result,
            settle_retry_with_backoff_then_dead,
            settle_ignores_stale_attempt,
            settle_give_back_unstarted_is_not_counted,
            settle_two_outcomes_for_one_attempt_apply_once,
            settle_over_size_limits_fail_or_cut,
            lease_expired_job_is_rescued,
            lease_rescue_takes_every_expired_lease,
            lease_heartbeat_extends_lease,
            lease_rescue_on_last_attempt_is_dead,
            lease_fence_outlives_reused_attempt_numbers,
            cancel_pending_running_and_finished_jobs,
            cancel_then_retry_job_runs_again,
            list_jobs_filters_and_pages,
            list_jobs_filters_by_dependency_status,
            listen_wakes_on_enqueue,
            worker_processes_jobs_and_stores_results,
            worker_retries_then_marks_dead,
            worker_timeout_fails_attempt,
            worker_shutdown_loses_nothing,
            worker_rescues_job_of_crashed_worker,
            worker_clock_ahead_leaves_live_leases_alone,
            worker_heartbeat_keeps_long_job_leased,
            worker_keeps_running_when_handle_dropped,
            worker_fan_in_reads_parent_results,
            dependency_chain_runs_in_order,
            dependency_fan_out_fan_in,
            dependency_on_stored_jobs,
            dependency_shared_child_released_once_by_concurrent_parents,
            dependency_on_a_parent_settling_concurrently,
            dependency_priority_never_overrides_dependencies,
            dependency_conditions_run_skip_and_propagate,
            dependency_bad_condition_is_rejected,
            dependency_parent_results_are_readable,
            dependency_batch_job_then_dependent,
            dependency_cancel_and_rescue_reach_dependents,
            workflow_fail_fast_cancels_the_rest,
            workflow_continue_on_failure_runs_independent_branch,
            workflow_manual_pauses_then_retry_completes,
            workflow_paused_with_nothing_left_cancels,
            workflow_retry_reruns_failed_and_dependents,
            workflow_retry_respects_skipped_parents_and_conditions,
            workflow_status_stats_and_cancel,
            workflow_cancelled_jobs_leave_it_cancelled,
            workflow_timeout_fails_unfinished,
            workflow_cycle_and_missing_dependency_write_nothing,
            workflow_cancel_reaches_dependents_outside,
            workflow_dead_at_enqueue_applies_policy,
            workflow_concurrent_settles_keep_counters_exact,
            cron_job_next_run_is_enqueued_once,
            cron_successor_follows_the_finish,
            cron_bad_schedule_is_rejected_writing_nothing,
            cron_cancelled_occurrence_ends_series,
            cron_dependent_waits_for_each_round,
            cron_workflow_recurs_as_a_whole,
            cron_waiting_series_do_not_hide_the_others,
            cron_one_scheduler_leads_at_a_time,
            worker_starts_delayed_jobs_on_time,
            worker_runs_recurring_job,
            worker_runs_every_second_cron_every_second,
            worker_schedules_successor_when_recurring_job_settles,
            worker_gives_back_surplus_when_jobs_turn_slow,
            worker_prunes_finished_jobs_past_their_retention,
            worker_one_scheduler_leads_and_resigns,
            spawn_handler_children_run,
            spawn_inherit_priority_and_queue,
            spawn_delay_staggers_schedule,
            spawn_batch_size_writes_in_batches,
            spawn_limits_write_nothing,
            spawn_validate_rejection_fails_parent,
            spawn_unknown_handler_fails_parent,
            spawn_crash_between_spawn_and_ack_does_not_duplicate,
            spawn_lineage_and_tree,
            spawn_stats_figures,
            spawn_chain_runs_in_order,
            spawn_await_children_holds_next_stage,
            spawn_await_children_results_reach_the_stage,
            spawn_await_children_holds_later_dependents,
            spawn_await_children_failure_applies_policy,
            spawn_await_children_skipped_child_skips_stage,
            spawn_await_children_retry_reruns_dead_child,
            spawn_await_children_cancel_reaches_children,
            spawn_await_children_cycle_is_refused,
            worker_huge_delays_never_leave_a_job_running,
            worker_panicking_spawn_handler_fails_the_attempt,
        );
    };
    (@cases $factory:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let db = $factory(stringify!($case)).await;
                $crate::cases::$case(db.storage.clone()).await;
                db.finish().await;
            }
        )*

        /// The property-based model test ([`model`](crate::model)):
        /// `HAMMERWORK_MODEL_CASES` random graphs (500 by default), all in
        /// one database, each in queues of its own.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn model_random_graphs_match_the_reference() {
            let db = $factory("model").await;
            $crate::model::check_model(db.storage.clone(), $crate::model::cases_from_env());
            db.finish().await;
        }
    };
}
