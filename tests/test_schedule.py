"""tests/schedule.py: the longest tests first, the rest in file order, a stale name refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.schedule import LONG_TESTS, listed_name, longest_first

LONGEST = max(LONG_TESTS, key=LONG_TESTS.__getitem__)


def items(*nodeids: str) -> list:
    return [SimpleNamespace(nodeid=n) for n in nodeids]


def every_listed_test() -> list[str]:
    return [f"tests/{name}" for name in LONG_TESTS]


def test_names_drop_parameters_and_groups():
    item = SimpleNamespace(nodeid="tests/test_a.py::test_b[x-1]@plugin-venv")
    assert listed_name(item) == "test_a.py::test_b"


def test_listed_tests_come_first_longest_first_then_the_rest_in_order():
    short = ["tests/test_zz.py::test_one", "tests/test_aa.py::test_two[p]"]
    found = items(short[0], *reversed(every_listed_test()), short[1])
    longest_first(found)
    order = [i.nodeid for i in found]
    assert order[0] == f"tests/{LONGEST}"
    seconds = [LONG_TESTS[listed_name(i)] for i in found[: len(LONG_TESTS)]]
    assert seconds == sorted(seconds, reverse=True)
    assert order[len(LONG_TESTS) :] == short  # unlisted: collection order kept


def test_a_listed_name_no_test_has_stops_a_whole_suite_run():
    renamed = [n for n in every_listed_test() if not n.endswith(LONGEST)]
    renamed.append(f"tests/{LONGEST}_renamed")
    with pytest.raises(pytest.exit.Exception, match="which no test is called"):
        longest_first(items(*renamed))


def test_a_run_of_some_files_is_not_checked():
    found = items("tests/test_kill.py::test_other", "tests/test_zz.py::test_one")
    longest_first(found)  # test_kill.py's listed tests were not selected: no error
    assert [i.nodeid for i in found] == [
        "tests/test_kill.py::test_other",
        "tests/test_zz.py::test_one",
    ]
