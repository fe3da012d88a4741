"""Config errors name the file, the key and the problem."""

from __future__ import annotations

import datetime as dt

import pytest

from harvester.config import load_config
from harvester.errors import ConfigError, PluginError
from harvester.harvest import Harvest

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
        Harvest(load_config(path))
    assert info.value.key == "sources.dumps.capturd_on"
    assert "unknown option" in str(info.value)


def test_unknown_plugin_is_an_error_naming_it(tmp_path):
    path = write(tmp_path, GOOD.replace('plugin = "jsonl"', 'plugin = "parquet"'))
    with pytest.raises(PluginError, match="unknown sink 'parquet'"):
        Harvest(load_config(path))
