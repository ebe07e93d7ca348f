"""Atomic writes: a file appears whole or not at all, and a directory in its place is one line;
what a killed write leaves is removed when the directory is next taken."""

import os
import socket
import subprocess
import sys
import textwrap

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


def test_a_directory_replaced_whole_must_be_new_empty_or_of_the_same_kind(tmp_path):
  release = tmp_path / "release"
  release.mkdir()
  (release / "notes.txt").write_text("the user's")
  with pytest.raises(UserError, match=r"--publish_dir=.*release holds other files \(no "
                                      r"models.json\), and it would be replaced whole") as e:
    with files.atomic_dir(str(release), "models.json", "--publish_dir") as staging:
      open(os.path.join(staging, "models.json"), "w").write("{}")
  assert "\n" not in str(e.value) and os.listdir(release) == ["notes.txt"]  # nothing deleted
  (release / "notes.txt").unlink()
  for holds in ("models.json", "*/golden.json"):
    os.makedirs(release / "a", exist_ok=True)
    (release / "a" / "golden.json").write_text("{}")
    (release / "models.json").write_text("{}")
    with files.atomic_dir(str(release), holds, "--out") as staging:
      open(os.path.join(staging, "new"), "w").close()
    assert os.listdir(release) == ["new"]  # an earlier write of the same kind: replaced
  (tmp_path / "a_file").write_text("x")
  with pytest.raises(UserError, match="--out=.*a_file is a file; name a directory"):
    files.check_replaceable(str(tmp_path / "a_file"), "models.json", "--out")
  with pytest.raises(UserError, match="^--out_dir is empty; name a directory$"):
    files.check_replaceable("", "*/golden.json", "--out_dir")  # not the current directory
  files.check_replaceable(str(tmp_path / "new"), "models.json", "--out")  # new: fine
  (tmp_path / "empty").mkdir()
  files.check_replaceable(str(tmp_path / "empty"), "models.json", "--out")


def test_a_work_directory_that_is_empty_or_a_file_is_named_as_such(tmp_path):
  with pytest.raises(UserError, match="^--workdir is empty; name a directory$"):
    files.ensure_writable_dir("")
  (tmp_path / "a_file").write_text("x")
  with pytest.raises(UserError, match="--workdir=.*a_file is a file; name a directory"):
    files.ensure_writable_dir(str(tmp_path / "a_file"))



def test_a_held_directory_is_refused_to_another_process_until_its_holder_ends(
    tmp_path, held_elsewhere):
  holder = held_elsewhere(tmp_path, "squish-evolve")
  with pytest.raises(UserError, match=rf"^{tmp_path} is in use by squish-evolve \(pid "
                                      rf"{holder.pid}\); wait for it to end, or choose "):
    files.hold(str(tmp_path), "squish-train")
  holder.kill()
  holder.wait()
  files.hold(str(tmp_path), "squish-train")  # a killed holder's lock went with it
  files.hold(str(tmp_path), "squish-train")  # held already by this process: nothing to do
  files.release(str(tmp_path))
  files.release(str(tmp_path))  # released already: nothing to do


def _killed_writes(directory, target_dir, release_dir):
  """A process killed inside `atomic_path` and `atomic_dir` (os._exit skips every cleanup):
  the temporary file and directory it leaves, named by its pid."""
  script = textwrap.dedent(f"""
      import os
      from squish_tf import files
      with files.atomic_path({str(target_dir / "model.tflite")!r}) as tmp:
        open(tmp, "wb").write(b"half a model")
        with files.atomic_dir({str(release_dir)!r}, "models.json", "--publish_dir") as d:
          open(os.path.join(d, "models.json"), "w").write("half a release")
          os._exit(9)
      """)
  proc = subprocess.run([sys.executable, "-c", script], cwd=directory, timeout=120)
  assert proc.returncode == 9
  return proc


def test_what_killed_writes_left_is_removed_when_the_directory_is_next_taken(tmp_path):
  run = tmp_path / "run"
  (run / "gen_001").mkdir(parents=True)
  _killed_writes(tmp_path, run / "gen_001", run / "gen_001" / "release")
  left = [p.name for p in (run / "gen_001").iterdir()]
  # the file and the directory, both named by their writer: pid, host, PID namespace
  dead, writer = left[0].split("-", 1)[1].split("+")[0].split("@")
  assert len(left) == 2 and all(n.startswith(f".tmp-{dead}@{writer}+") for n in left), left
  host = socket.gethostname()
  namespace = writer.split("~")[1]
  kept = [run / (files._temp_prefix("tmp") + "abc.json"),  # this process: a write under way
          # the dead pid, written elsewhere: on a host whose name starts like this one's, in
          # another PID namespace (a container sharing the folder), on an unknown host
          run / f".tmp-{dead}@{host}-2~{namespace}+abc.json",
          run / f".tmp-{dead}@{host}~{namespace}9+abc.json",
          run / f".tmp-{dead}@+abc.json",
          run / ".tmp-abc.json",  # an older squish_tf's name: whose it is cannot be told
          run / "notes.txt"]
  for path in kept:
    path.write_text("kept")
  files.hold(str(run), "squish-evolve")
  try:
    assert sorted(os.listdir(run / "gen_001")) == []
    assert sorted(os.listdir(run)) == sorted([".lock", "gen_001", *(p.name for p in kept)])
  finally:
    files.release(str(run))


def test_a_release_replaced_after_a_killed_write_leaves_nothing_beside_it(tmp_path):
  release = tmp_path / "release"
  _killed_writes(tmp_path, tmp_path, release)
  assert len(os.listdir(tmp_path)) == 2  # the two leftovers; no release
  with files.atomic_dir(str(release), "models.json", "--publish_dir") as d:
    (tmp_path / d / "models.json").write_text("{}")
  # the killed file write (model.tflite's) is removed too: it has its writer's name
  assert os.listdir(tmp_path) == ["release"]


def test_a_release_whose_replacement_was_killed_between_its_renames_is_put_back(
    tmp_path, monkeypatch):
  release = tmp_path / "release"
  with files.atomic_dir(str(release), "models.json", "--publish_dir") as d:
    (tmp_path / d / "models.json").write_text("first")
  renames = []

  def interrupted(src, dst):  # Ctrl-C once the old release is moved aside
    renames.append(src)
    if len(renames) == 2:
      raise KeyboardInterrupt
    os.rename(src, dst)
  monkeypatch.setattr(files.os, "replace", interrupted)
  with pytest.raises(KeyboardInterrupt):
    with files.atomic_dir(str(release), "models.json", "--publish_dir") as d:
      (tmp_path / d / "models.json").write_text("second")
  monkeypatch.undo()
  assert os.listdir(tmp_path) == ["release"] and (release / "models.json").read_text() == "first"
  # killed (SIGKILL) there instead: the only copy is the .old- one, and it is put back
  os.rename(release, tmp_path / _dead_writers_name("release"))
  assert files.remove_leftovers(str(tmp_path), depth=1)
  assert sorted(os.listdir(tmp_path)) == ["release"]
  assert (release / "models.json").read_text() == "first"


def _dead_writers_name(target: str, letters: str = "k3j_a9") -> str:
  """The name `atomic_dir` gives `target`'s replaced copy, as a process now ended wrote it."""
  ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                         capture_output=True, text=True, timeout=60)
  prefix = files._temp_prefix("old", target)
  return prefix.replace(f"-{os.getpid()}@", f"-{ended.stdout.strip()}@") + letters


def test_a_put_back_release_is_checked_before_it_is_replaced(tmp_path):
  """Put back first, then checked: a SavedModel export to a release's path was let through
  (the path was missing at the check) and replaced the release put back after it."""
  out = tmp_path / "out"
  with files.atomic_dir(str(out), "models.json", "--publish_dir") as d:
    (tmp_path / d / "models.json").write_text("the release")
  os.rename(out, tmp_path / _dead_writers_name("out"))
  with pytest.raises(UserError, match="holds other files \\(no saved_model.pb\\)"):
    with files.atomic_dir(str(out), "saved_model.pb", "--out"):
      pass
  assert (out / "models.json").read_text() == "the release"


def test_of_two_replaced_copies_the_newer_is_put_back_and_a_stale_one_removed(tmp_path):
  for name, text, when in (("older", "R1", 1_000), ("newer", "R2", 2_000)):
    copy = tmp_path / _dead_writers_name("rel", name)
    copy.mkdir()
    (copy / "models.json").write_text(text)
    os.utime(copy, (when, when))
  files.remove_leftovers(str(tmp_path), depth=1)
  assert os.listdir(tmp_path) == ["rel"] and (tmp_path / "rel" / "models.json").read_text() == "R2"
  (tmp_path / _dead_writers_name("rel")).mkdir()  # its target is there: only removed
  files.remove_leftovers(str(tmp_path), depth=1)
  assert os.listdir(tmp_path) == ["rel"] and (tmp_path / "rel" / "models.json").read_text() == "R2"
