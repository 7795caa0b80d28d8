"""The hostile-case table (issue #14): every attack crm-audit is tested against, by class.

Cases live where their code lives (limits beside the readers' tests, crafted logs beside the
merge's, ...); this registry gives each of those tests a class and says what "handled" means
for it, so the table is assembled without moving or duplicating a test. Each parametrized
instance of a registered test is one case. The new cases of `tests/hostile/test_hostile.py`
carry their class in their id ("files-...", "config-...").

`python tests/hostile/table.py` (or `make hostile`) runs them all and prints tried / handled /
failing by class; a test file or function named here that no longer exists fails
`tests/hostile/test_registry.py`, so the table cannot shrink silently.
"""

from __future__ import annotations

CLASSES = {
    "files": "hostile or broken input files: payloads, encodings, bombs, nesting, odd names",
    "config": "configs a user could write or an attacker could plant",
    "environment": "devices, links, full and read-only disks, shared stores, odd folders",
    "merge": "decisions files and merge logs handed to `merge apply` / `merge undo`",
    "faults": "kill -9, concurrent runs and writers, interrupted swaps",
    "redaction": "reports safe to share: redaction of every file, escaping, formulas",
}

HANDLED = {
    "refused": "the right exit code (2 config, 3 input), one line, no traceback",
    "accounted": "every row read = ingested + rejected with a reason; nothing lost",
    "unchanged": "inputs byte-identical; nothing written outside the output folder",
    "complete": "nothing incomplete accepted; a later command refuses or repairs it",
    "undo": "merge undo gives back the records byte for byte",
    "noleak": "no email, phone or secret of the input in any file; no formula executes",
}

# (test file, test function, class, what handled means for it)
REUSED: list[tuple[str, str, str, str]] = [
    # --- files
    (
        "tests/test_limits.py",
        "test_a_stray_cell_at_the_last_column_and_row_is_refused_before_loading",
        "files",
        "refused before loading (5 KB xlsx claiming 17G cells)",
    ),
    (
        "tests/test_limits.py",
        "test_sheet_cell_limit_is_a_config_key",
        "files",
        "refused; a config key raises the limit",
    ),
    (
        "tests/test_limits.py",
        "test_zip_that_inflates_past_the_limit_is_refused",
        "files",
        "zip bomb refused, one line",
    ),
    ("tests/test_limits.py", "test_zip_member_count_limit", "files", "member count bounded"),
    (
        "tests/test_limits.py",
        "test_zip_members_not_read_are_listed_with_a_reason",
        "files",
        "hidden/backslash/nested members listed with a reason",
    ),
    (
        "tests/test_limits.py",
        "test_json_nested_ten_thousand_deep_loses_only_that_record",
        "files",
        "deep nesting: only that record rejected",
    ),
    (
        "tests/test_limits.py",
        "test_encoded_words_decode_like_the_standard_library",
        "files",
        "encoded words decoded safely",
    ),
    (
        "tests/test_limits.py",
        "test_a_subject_of_100k_encoded_words_is_linear",
        "files",
        "2.9 MB header read in linear time",
    ),
    (
        "tests/cli/test_header_detection.py",
        "test_a_row_with_unquoted_commas_does_not_become_the_header",
        "files",
        "no row lost to header detection",
    ),
    (
        "tests/cli/test_header_detection.py",
        "test_a_one_column_email_list_keeps_every_row",
        "files",
        "no row lost",
    ),
    (
        "tests/cli/test_header_detection.py",
        "test_real_title_lines_are_still_skipped_and_named",
        "files",
        "title lines named, data kept",
    ),
    (
        "tests/cli/test_header_detection.py",
        "test_a_file_without_header_keeps_its_first_row_and_says_so",
        "files",
        "first row kept",
    ),
    (
        "tests/cli/test_header_detection.py",
        "test_a_header_wider_than_the_sniff_window_is_read_whole",
        "files",
        "wide header read whole",
    ),
    (
        "tests/cli/test_header_detection.py",
        "test_a_totals_footer_is_reported_in_a_csv_as_in_a_workbook",
        "files",
        "footer reported, not a deal",
    ),
    (
        "tests/cli/test_header_detection.py",
        "test_title_lines_that_are_not_one_cell_or_mention_an_address",
        "files",
        "rows kept",
    ),
    (
        "tests/test_readers.py",
        "test_hostile_files_do_not_crash",
        "files",
        "junk, NUL, 3 MB cell, mixed encodings, truncated xlsx, xlsx bomb",
    ),
    (
        "tests/test_readers.py",
        "test_password_protected_xlsx_is_a_clear_error",
        "files",
        "refused, one line",
    ),
    (
        "tests/test_readers.py",
        "test_random_bytes_ingest_with_accounting_or_input_error",
        "files",
        "accounted or refused (150 random files)",
    ),
    (
        "tests/test_readers.py",
        "test_random_delimited_text_keeps_accounting",
        "files",
        "accounted (random delimited text)",
    ),
    (
        "tests/test_readers.py",
        "test_every_reader_reads_an_empty_file_as_zero_rows",
        "files",
        "empty file: zero rows, no crash",
    ),
    (
        "tests/test_readers.py",
        "test_empty_and_header_only_files_read_zero_rows",
        "files",
        "zero rows, no crash",
    ),
    (
        "tests/test_readers.py",
        "test_missing_file_and_empty_glob_are_input_errors",
        "files",
        "refused, one line",
    ),
    (
        "tests/test_readers.py",
        "test_wrong_encoding_override_names_the_setting",
        "files",
        "refused, names the setting",
    ),
    (
        "tests/test_readers.py",
        "test_ragged_rows_become_issues_with_line_numbers",
        "files",
        "rejected with line numbers",
    ),
    ("tests/test_readers.py", "test_sep_line_and_cr_only_line_ends", "files", "accounted"),
    (
        "tests/test_readers.py",
        "test_a_stray_quote_never_folds_the_next_rows_into_its_cell",
        "files",
        "no row swallowed",
    ),
    (
        "tests/test_readers.py",
        "test_a_short_row_that_lines_up_nowhere_or_is_two_short_stays_rejected",
        "files",
        "rejected with a reason",
    ),
    (
        "tests/test_readers.py",
        "test_leading_zeros_and_full_width_digits_survive",
        "files",
        "values kept as text",
    ),
    (
        "tests/cli/test_folder_audit.py",
        "test_a_folder_is_one_source_per_file_and_a_broken_file_is_a_finding",
        "files",
        "a broken file is a finding, the rest read",
    ),
    (
        "tests/cli/test_folder_audit.py",
        "test_only_a_folder_with_nothing_readable_is_exit_3",
        "files",
        "refused, one line",
    ),
    (
        "tests/cli/test_folder_audit.py",
        "test_an_explicit_file_name_with_brackets_is_not_a_pattern",
        "files",
        "read by its exact name",
    ),
    (
        "tests/test_sources_folders.py",
        "test_a_folder_source_reads_nested_folders_and_skips_hidden_files",
        "files",
        "hidden files listed, not silently skipped",
    ),
    # --- config
    (
        "tests/cli/test_config_preflight.py",
        "test_config_mistakes_are_one_line_and_exit_2",
        "config",
        "exit 2 before any work, one line",
    ),
    ("tests/cli/test_config_preflight.py", "test_as_of_out_of_range", "config", "exit 2, one line"),
    (
        "tests/cli/test_config_preflight.py",
        "test_yaml_alias_bomb_is_refused_fast",
        "config",
        "refused in under 5 s",
    ),
    (
        "tests/cli/test_config_preflight.py",
        "test_deeply_nested_yaml_is_refused",
        "config",
        "exit 2, no RecursionError",
    ),
    (
        "tests/cli/test_errors.py",
        "test_missing_config_is_usage_error",
        "config",
        "exit 2, one line",
    ),
    (
        "tests/cli/test_errors.py",
        "test_bad_config_key_names_file_line_and_key",
        "config",
        "exit 2 naming file, line and key",
    ),
    (
        "tests/cli/test_errors.py",
        "test_missing_source_file_is_input_error",
        "config",
        "exit 3, one line",
    ),
    (
        "tests/cli/test_errors.py",
        "test_config_and_paths_together_is_usage_error",
        "config",
        "exit 2",
    ),
    # --- environment
    (
        "tests/test_limits.py",
        "test_device_files_are_refused",
        "environment",
        "/dev/zero refused, never read",
    ),
    (
        "tests/test_faults.py",
        "test_read_only_or_full_disk_is_one_line_and_leaves_nothing_complete",
        "environment",
        "one line; nothing complete-looking left",
    ),
    (
        "tests/test_faults.py",
        "test_impossible_output_folder_is_a_usage_error",
        "environment",
        "exit 2, one line",
    ),
    (
        "tests/test_faults.py",
        "test_a_broken_history_never_fails_the_audit",
        "environment",
        "warning, moved aside, audit exit 0",
    ),
    (
        "tests/test_review_store.py",
        "test_a_broken_decisions_store_never_fails_the_audit",
        "environment",
        "warning, moved aside, audit exit 0",
    ),
    (
        "tests/test_review_store.py",
        "test_review_status_of_a_garbage_store_warns_and_shows_nothing_decided",
        "environment",
        "warning, exit 0",
    ),
    (
        "tests/test_review_store.py",
        "test_an_unwritable_store_folder_warns_and_the_merge_still_applies",
        "environment",
        "merge applied, warning",
    ),
    (
        "tests/test_reliability.py",
        "test_report_out_refuses_to_replace_a_foreign_folder",
        "environment",
        "a user's folder never replaced",
    ),
    (
        "tests/test_reliability.py",
        "test_merge_out_refuses_to_replace_a_foreign_folder",
        "environment",
        "a user's folder never replaced",
    ),
    (
        "tests/test_reliability.py",
        "test_undo_never_writes_through_a_symlinked_folder",
        "environment",
        "nothing written through a link",
    ),
    # --- merge inputs
    (
        "tests/test_reliability.py",
        "test_crafted_log_cannot_write_outside_or_delete_files",
        "merge",
        "paths confined; nothing written or deleted",
    ),
    (
        "tests/test_reliability.py",
        "test_crafted_log_naming_contacts_csv_still_changes_nothing",
        "merge",
        "checksums checked first",
    ),
    (
        "tests/test_reliability.py",
        "test_edited_log_is_refused_before_anything_is_written",
        "merge",
        "refused before any write",
    ),
    (
        "tests/test_reliability.py",
        "test_log_whose_originals_were_swapped_does_not_pass_the_checksum",
        "merge",
        "refused",
    ),
    (
        "tests/test_reliability.py",
        "test_oversized_decisions_are_refused",
        "merge",
        "refused, one line",
    ),
    (
        "tests/test_reliability.py",
        "test_deeply_nested_log_or_decisions_is_one_line",
        "merge",
        "one line, no RecursionError",
    ),
    (
        "tests/test_reliability.py",
        "test_incomplete_or_changed_run_folder_is_refused_everywhere",
        "merge",
        "refused by every command",
    ),
    # --- faults
    (
        "tests/test_faults.py",
        "test_kill_9_during_run_never_leaves_an_accepted_incomplete_folder",
        "faults",
        "0 accepted incomplete; the next run cleans up",
    ),
    (
        "tests/test_faults.py",
        "test_kill_9_during_merge_apply_is_always_undoable",
        "faults",
        "undo restores the records after every kill",
    ),
    (
        "tests/test_faults.py",
        "test_kill_9_during_merge_undo_then_undo_again_restores",
        "faults",
        "undo again finishes the job",
    ),
    (
        "tests/test_faults.py",
        "test_concurrent_runs_of_one_config_get_their_own_folders",
        "faults",
        "own ids, own folders, all in the history",
    ),
    (
        "tests/test_reliability.py",
        "test_every_interrupted_apply_state_is_undone_or_rolled_back",
        "faults",
        "every interrupted state recovers",
    ),
    (
        "tests/test_reliability.py",
        "test_run_folder_has_a_manifest_of_every_file",
        "faults",
        "manifest written last, lists every file",
    ),
    (
        "tests/test_reliability.py",
        "test_report_in_place_keeps_the_folder_complete",
        "faults",
        "re-render is one atomic swap",
    ),
    (
        "tests/test_review_store.py",
        "test_concurrent_writers_queue_and_lose_nothing",
        "faults",
        "4 writers + a 6 s lock: every row lands",
    ),
    (
        "tests/test_review_store.py",
        "test_a_decision_write_is_all_or_nothing",
        "faults",
        "no partial rows; a warning",
    ),
    (
        "tests/test_staging_cleanup.py",
        "test_a_live_runs_staging_is_never_touched_and_a_killed_ones_is_removed",
        "faults",
        "live kept, dead removed",
    ),
    (
        "tests/test_staging_cleanup.py",
        "test_a_run_killed_after_its_manifest_is_finished_not_thrown_away",
        "faults",
        "complete staged run put in place",
    ),
    (
        "tests/test_staging_cleanup.py",
        "test_a_later_run_cleans_up_and_says_so_in_one_line",
        "faults",
        "one warning line; no hidden leftovers",
    ),
    (
        "tests/test_staging_cleanup.py",
        "test_two_sweepers_and_a_live_owner_race_without_harm",
        "faults",
        "removed once; live untouched",
    ),
    # --- redaction and report safety
    (
        "tests/test_redaction_scan.py",
        "test_input_has_what_we_look_for",
        "redaction",
        "the scan's inputs hold real secrets",
    ),
    (
        "tests/test_redaction_scan.py",
        "test_no_email_phone_or_secret_in_any_file_of_a_redacted_run",
        "redaction",
        "no leak in any file (xlsx, parquet inside)",
    ),
    (
        "tests/test_redaction_scan.py",
        "test_merge_output_of_a_redacted_run_leaks_nothing",
        "redaction",
        "no leak in merge outputs",
    ),
    (
        "tests/test_redaction_scan.py",
        "test_redacted_copy_has_the_merge_review_and_leaks_nothing",
        "redaction",
        "no leak; review included",
    ),
    (
        "tests/test_redaction_scan.py",
        "test_redact_cell_masks_ids_secrets_and_lists",
        "redaction",
        "masked",
    ),
    (
        "tests/test_report_safety.py",
        "test_every_writer_escapes_and_neutralizes_hostile_values",
        "redaction",
        "escaped and neutralized in every writer",
    ),
    (
        "tests/test_report_safety.py",
        "test_redaction_masks_emails_and_phones_in_every_writer",
        "redaction",
        "masked in every writer",
    ),
    (
        "tests/test_report_safety.py",
        "test_redacted_values_keep_their_shape",
        "redaction",
        "masked, shape kept",
    ),
    (
        "tests/test_report_safety.py",
        "test_phone_numbers_survive_neutralization_unchanged",
        "redaction",
        "no data corrupted by neutralizing",
    ),
    (
        "tests/test_report_safety.py",
        "test_html_has_a_content_security_policy_that_forbids_scripts",
        "redaction",
        "no script runs, no network",
    ),
    (
        "tests/test_report_safety.py",
        "test_neutralize_is_safe_and_reversible",
        "redaction",
        "neutralized and reversible",
    ),
    (
        "tests/test_report_safety.py",
        "test_plain_numbers_and_phones_are_left_alone",
        "redaction",
        "no false neutralizing",
    ),
    ("tests/test_report_safety.py", "test_redact_text", "redaction", "masked"),
    (
        "tests/test_report_safety.py",
        "test_email_keyed_ids_are_masked_consistently_and_stay_unique",
        "redaction",
        "masked, ids unique",
    ),
    ("tests/test_report_safety.py", "test_any_email_in_free_text_is_masked", "redaction", "masked"),
    (
        "tests/test_report_safety.py",
        "test_redact_frame_finds_phones_in_arrow_and_object_columns",
        "redaction",
        "masked in every column type",
    ),
    (
        "tests/test_reliability.py",
        "test_every_merge_output_neutralizes_formulas",
        "redaction",
        "no formula in merge outputs",
    ),
    (
        "tests/test_report_browser.py",
        "test_hostile_names_stay_text_and_nothing_executes",
        "redaction",
        "29 payloads stay text in a real browser",
    ),
]

NEW_SUITE = "tests/hostile/test_hostile.py"
NEW_CLASS_OF = {
    "files": "files",
    "config": "config",
    "environment": "environment",
    "merge": "merge",
}


def class_of(file: str, test: str, param: str) -> str | None:
    """The class of one test case (None: not a hostile case)."""
    if file == NEW_SUITE and test in ("test_hostile", "test_hostile_merge"):
        return NEW_CLASS_OF.get(param.split("-")[0])
    for f, t, cls, _ in REUSED:
        if f == file and t == test:
            return cls
    return None
