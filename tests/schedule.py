"""The order tests start in: the longest first, so that under `pytest -n 4` no long test starts
last and runs on alone while the other workers sit idle (longest-processing-time scheduling).

Collected in file order, the worker tests came last and one worker ran 65 s after the others had
finished. `LONG_TESTS` holds each long test's wall time in seconds on 2 busy cores, rounded:
read off a per-test timer over a whole run made beside a second suite, scaled down by 1.6 (the
two runs' ratio); the outage trials' and mypy's are set by hand (mypy's high, to start it
first). A test not listed counts as short. The figures only order the start: a stale one makes
the run slower, never wrong. An entry whose file is collected
but which matches no test stops the run, so a renamed test does not silently fall to the back.
"""

from __future__ import annotations

import pytest

LONG_TESTS = {  # "file::test" (parameters and xdist groups left off) -> seconds
    "test_types.py::test_mypy_reports_no_error": 90,  # ~30 s on one core: start it first
    "test_bench_smoke.py::test_quick_benchmark_prints_every_stage": 70,
    "test_readme.py::test_the_set_up_command_installs_and_runs_the_example": 65,
    "test_kill.py::test_sigkill_at_many_points_then_rerun_gives_the_clean_output": 34,
    "test_workers_outage.py::test_workers_survive_a_database_outage": 30,
    "test_finalise.py::test_what_the_cheap_check_accepts_is_clean": 23,
    "test_stores.py::test_two_identical_runs_give_identical_exports_and_feeds": 22,
    "test_workers_outage.py::test_sigterm_stops_a_worker_within_seconds_while_its_database_is_down": 21,
    "test_workers.py::test_workers_share_the_state_database_budget_without_being_told": 21,
    "test_parquet_kill.py::test_killed_runs_leave_exactly_the_committed_papers": 19,
    "test_stores.py::test_export_from_every_store_is_the_same_file": 19,
    "test_workers.py::test_status_and_until_done_ask_aggregate_questions_of_a_queue_of_100000_jobs": 17,
    "test_workers.py::test_eight_workers_two_killed_give_the_single_process_rows": 17,
    "test_workers.py::test_a_target_is_queued_once_and_the_workers_run_what_enqueue_listed": 15,
    "test_check.py::test_every_builtin_source_and_sink_passes_harvester_check": 14,
    "test_stores.py::test_history_from_every_store_is_the_same": 13,
    "test_contracts.py::TestTextDumpContract::test_memory_stays_bounded_on_a_large_input": 13,
    "test_workers_outage.py::test_sigterm_stops_a_worker_whose_database_never_answers": 12,
    "test_textdump.py::test_memory_does_not_grow_with_input": 12,
    "test_kill.py::test_sigkill_on_postgresql_state_then_rerun_gives_the_clean_output": 12,
    "test_workers.py::test_deferred_and_failed_targets_show_in_status": 11,
    "test_fetch_polite.py::test_a_burst_budget_equal_to_a_fixed_window_quota_gets_no_429": 11,
    "test_stores.py::test_report_from_every_store_lists_the_same_papers": 11,
    "test_contracts.py::TestArxivListingContract::test_memory_stays_bounded_on_a_large_input": 10,
    "test_kill.py::test_sigkill_in_append_mode_then_rerun_appends_each_record_once": 10,
    "test_workers.py::test_jobs_wait_while_a_run_holds_the_state": 10,
    "test_fetch_faults_run.py::test_a_refused_connection_fails_this_run_only_and_the_next_run_writes_everything": 10,
    "test_arxiv_budget.py::test_two_processes_at_the_arxiv_preset_arrive_one_per_3_s": 9,
    "test_workers.py::test_a_stopped_worker_puts_its_job_back_at_once_and_leaves_the_rest_queued": 9,
    "test_consumers.py::test_sqlite_utils_opens_the_database": 9,
    "test_fetch_faults_run.py::test_a_deferral_is_kept_in_the_state_until_its_time_has_come": 9,
    "test_fetch_faults_run.py::test_a_long_retry_after_defers_the_host_until_the_clearing_switch": 9,
    "test_check.py::test_update_expected_rewrites_the_records_and_shows_what_changed": 9,
    "test_check_mutants.py::test_every_mutant_fails_the_check_that_catches_it": 8,
    "test_check.py::test_postgres_passes_harvester_check_on_a_real_server": 8,
    "test_check.py::test_a_broken_plugin_fails_with_a_readable_report": 8,
    "test_budget_shared.py::test_shards_splitting_a_range_share_one_budget": 8,
    "test_fetch_bounds.py::test_gzip_bombs_stop_at_the_cap": 8,
    "test_state.py::test_rerun_skips_done_targets_and_refresh_reads_them_again": 7,
    "test_textdump_blank_lines.py::test_one_blank_line_more_or_less_in_a_seed": 7,
    "test_fetch_polite.py::test_200_requests_that_know_nothing_of_the_budget_get_no_429": 7,
    "test_sqlite_history.py::test_history_of_a_missing_database_or_unknown_key_is_a_usage_error": 7,
    "test_outcomes.py::test_every_target_appears_once_with_an_outcome_from_the_vocabulary": 7,
    "test_stop.py::test_a_stop_cuts_a_wait_short_and_the_next_run_does_the_rest": 6,
    "test_stores.py::test_every_store_gives_the_same_papers_sightings_and_history": 6,
    "test_store_migration.py::test_a_schema_2_1_postgres_database_is_migrated_in_place": 6,
    "test_state_pg.py::test_passwords_never_reach_the_state_messages_or_summary": 6,
    "test_arxiv_merge.py::test_hf_and_arxiv_make_one_row_each_field_from_its_leader": 6,
    "test_workers.py::test_a_config_that_cannot_run_as_jobs_is_refused": 6,
    "test_workers.py::test_status_marks_a_job_whose_worker_went_silent_as_stalled": 6,
    "test_kill.py::test_sigterm_and_sigint_stop_cleanly_and_the_rerun_completes": 6,
    "test_report.py::test_report_from_jsonl_renders_every_chart_in_chromium": 6,
}


def listed_name(item: pytest.Item) -> str:
    """`file::test` of `item`: its node id within tests/, without parameters or xdist group."""
    nodeid = item.nodeid.split("@", 1)[0].split("[", 1)[0]
    return nodeid.removeprefix("tests/")


def longest_first(items: list[pytest.Item]) -> None:
    """Sort `items` in place: listed tests by their seconds, longest first, then the rest in
    file order (the sort is stable)."""
    names = {listed_name(item) for item in items}
    files = {name.split("::", 1)[0] for name in names}
    if all(t.split("::", 1)[0] in files for t in LONG_TESTS):  # the whole suite collected
        stale = [t for t in LONG_TESTS if t not in names]
        if stale:
            pytest.exit(f"tests/schedule.py lists {stale[0]}, which no test is called", 4)
    items.sort(key=lambda item: -LONG_TESTS.get(listed_name(item), 0))
