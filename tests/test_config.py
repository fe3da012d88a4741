"""Config errors name the file, the key and the problem."""

from __future__ import annotations

import datetime as dt

import pytest

from harvester.build import build_plan
from harvester.config import load_config
from harvester.errors import ConfigError, PluginError

GOOD = """
[run]
rejects = "out/rejects.jsonl"

[sources.dumps]
plugin = "textdump"
inputs = ["dumps/*.txt"]
captured_on = 2025-12-10

[sinks.papers]
plugin = "jsonl"
path = "out/papers.jsonl"
"""


def write(tmp_path, text):
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads_with_paths_relative_to_the_config(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.base_dir == tmp_path.resolve()
    (source,) = config.sources
    assert (source.label, source.plugin) == ("dumps", "textdump")
    assert source.options["captured_on"] == dt.date(2025, 12, 10)
    assert config.sinks[0].plugin == "jsonl"


def test_override_from_the_command_line(tmp_path):
    config = load_config(write(tmp_path, GOOD), ["sources.dumps.captured_on=2024-01-02"])
    assert config.sources[0].options["captured_on"] == dt.date(2024, 1, 2)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (GOOD + "\n[surprise]\n", "surprise", "unknown table"),
        (
            GOOD.replace('rejects = "out/rejects.jsonl"', "batch_size = 'x'"),
            "run.batch_size",
            "Expected `int`",
        ),
        (GOOD.replace("[run]", "[run]\ncolour = 1"), "run.colour", "unknown option"),
        (GOOD + "\n[sinks.other]\nplugin = 3\n", "sinks.other.plugin", "plugin name"),
        ("[sinks.x]\npath='a'\n", "sources", "no sources"),
    ],
)
def test_config_errors_name_file_key_and_problem(tmp_path, text, key, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path)
    assert info.value.key == key
    assert problem in str(info.value)


def test_invalid_toml_names_the_line(tmp_path):
    path = write(tmp_path, "[run\n")
    with pytest.raises(ConfigError, match=r"run.toml: invalid TOML: .*line 1"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_plugin_option_errors_name_the_key(tmp_path):
    path = write(tmp_path, GOOD.replace("captured_on = 2025-12-10", "capturd_on = 2025-12-10"))
    with pytest.raises(ConfigError) as info:
        build_plan(load_config(path))
    assert info.value.key == "sources.dumps.capturd_on"
    assert "unknown option" in str(info.value)


def test_unknown_plugin_is_an_error_naming_it(tmp_path):
    path = write(tmp_path, GOOD.replace('plugin = "jsonl"', 'plugin = "parquett"'))
    where = r"run.toml: \[sinks.papers.plugin\]: "
    with pytest.raises(PluginError, match=where + "unknown sink 'parquett'"):
        build_plan(load_config(path))


@pytest.mark.parametrize(
    ("setting", "key", "problem"),
    [
        ("[fetch]\nmin_intervall = 2.0", "fetch.min_intervall", "unknown option"),
        ("[fetch]\ntimeout = -1", "fetch.timeout", "Expected `float` > 0.0"),
        ("[fetch]\nredirects = 'sometimes'", "fetch.redirects", "Invalid enum value"),
        ("[run]\nbatch_size = -5", "run.batch_size", ">= 1"),
        ("[run]\ncheckpoint_seconds = 0", "run.checkpoint_seconds", "> 0"),
        ("[run]\ncheckpoint_seconds = nan", "run.checkpoint_seconds", "> 0"),
        ("[run]\nguard_ratio = inf", "run.guard_ratio", "<= 1"),
    ],
)
def test_every_setting_is_checked_when_the_config_loads(tmp_path, setting, key, problem):
    """A typo or an out-of-range value in [run] or [fetch] fails at load, before any source
    runs (it used to surface mid-run, or never for offline runs)."""
    text = GOOD.replace("[run]", "[run_]") if setting.startswith("[run]") else GOOD
    text = text.replace("[run_]", setting + "\n") if setting.startswith("[run]") else text + setting
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert problem in info.value.problem


def test_a_source_fetch_override_is_checked_and_merged_at_load(tmp_path):
    path = write(tmp_path, GOOD + "\n[sources.web]\nplugin = 'hf-api'\nfetch = {timeoutt = 3}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "sources.web.fetch.timeoutt"
    good = write(
        tmp_path,
        GOOD + "[fetch]\ntimeout = 9\nheaders = {A = '1'}\n"
        "[sources.web]\nplugin = 'hf-api'\nfetch = {min_interval = 3, headers = {B = '2'}}\n",
    )
    web = load_config(good).sources[1]
    assert (web.fetch.timeout, web.fetch.min_interval) == (9, 3)
    assert web.fetch.headers == {"A": "1", "B": "2"}
    assert "fetch" not in web.options  # the plugin never sees it


def test_overrides_are_checked_like_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"\[run.batch_size\]"):
        load_config(write(tmp_path, GOOD), ["run.batch_size=-5"])


def test_a_deeply_nested_config_is_a_config_error(tmp_path):
    path = write(tmp_path, GOOD + "\n[run_x]\nv = " + "[" * 50_000 + "]" * 50_000 + "\n")
    with pytest.raises(ConfigError, match=r"run\.toml: invalid TOML: nested too deeply"):
        load_config(path)


def test_unknown_source_plugin_names_file_and_key(tmp_path):
    path = write(tmp_path, GOOD.replace('plugin = "textdump"', 'plugin = "textdumb"'))
    with pytest.raises(PluginError, match=r"run.toml: \[sources.dumps.plugin\]: unknown source"):
        build_plan(load_config(path))


def test_a_header_value_with_a_line_break_is_a_config_error_that_does_not_repeat_it(tmp_path):
    path = write(tmp_path, GOOD + '\n[fetch]\nheaders = {Private-Token = "abc\\r\\nX-Evil: 1"}\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key.startswith("fetch")
    assert "X-Evil" not in str(info.value)
