"""Atomic writes: a file appears whole or not at all, and a directory in its place is one line."""

import os

import pytest

from squish_tf import files
from squish_tf.errors import UserError


def test_a_write_appears_whole_and_a_failed_one_leaves_nothing(tmp_path):
  path = str(tmp_path / "out" / "a.json")
  files.write_json(path, {"a": 1})
  assert files.read_json(path) == {"a": 1}
  with pytest.raises(RuntimeError):
    with files.atomic_path(path) as tmp:
      open(tmp, "w").write("half")
      raise RuntimeError("crash mid-write")
  assert files.read_json(path) == {"a": 1} and os.listdir(tmp_path / "out") == ["a.json"]


def test_a_directory_where_the_file_goes_is_one_line_before_anything_is_written(tmp_path):
  with pytest.raises(UserError, match="is a directory; give the path of a file") as e:
    files.write_text(str(tmp_path), "x")
  assert "\n" not in str(e.value) and os.listdir(tmp_path) == []
