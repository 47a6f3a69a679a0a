"""The test suite's per-run store (tests/conftest.py: Once): each value is made once, by whichever test
process asks first; a failed computation is not stored."""

from __future__ import annotations

import fcntl

import pytest

from tests.conftest import Once


def test_a_value_is_made_once_and_then_read(tmp_path):
    calls = []
    a, b = Once(tmp_path), Once(tmp_path)  # two test processes of one run share the folder
    assert a.get("k", lambda: calls.append(1) or {"x": 1}) == {"x": 1}
    assert b.get("k", lambda: calls.append(2) or {"x": 2}) == {"x": 1}
    assert calls == [1]


def test_a_failed_computation_is_not_stored(tmp_path):
    once = Once(tmp_path)
    with pytest.raises(ZeroDivisionError):
        once.get("k", lambda: 1 / 0)
    assert once.get("k", lambda: 3) == 3


def test_a_value_someone_is_making_is_not_claimed(tmp_path):
    once = Once(tmp_path)
    with open(tmp_path / "k.lock", "a") as held:  # another process is computing "k"
        fcntl.flock(held, fcntl.LOCK_EX)
        assert once.claim("k", lambda: 1) is False
        assert once.claim("j", lambda: 2) is True
    assert once.get_all({"k": lambda: 5, "j": lambda: 6}) == {"k": 5, "j": 2}
