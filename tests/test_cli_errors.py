"""Each user mistake: one line naming the problem and the fix, exit code 2, no traceback, and
nothing else on stderr (no TensorFlow start-up lines above it)."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from squish_tf.cli import common
from squish_tf.export import cuda

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def assert_one_line_error(proc, *words):
  assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
  lines = [line for line in proc.stderr.splitlines() if line.strip()]
  assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), (
      proc.stderr[-2000:])
  for word in words:
    assert word in lines[0], lines[0]


def test_unknown_dataset(cli, tmp_path):
  proc = cli("train", "--dataset=no_such_data_set_xyz", f"--workdir={tmp_path}", "--epochs=1")
  assert_one_line_error(proc, "no_such_data_set_xyz")


def test_invalid_flag_values(cli, tmp_path):
  assert_one_line_error(cli("evolve", f"--workdir={tmp_path}/a", "--r_syn=1.5"), "r_syn", "(0, 1]")
  assert_one_line_error(cli("evolve", f"--workdir={tmp_path}/b", "--population=0"), "population")
  assert_one_line_error(cli("evolve", f"--workdir={tmp_path}/c", "--accuracy_floor=2"),
                        "accuracy_floor")
  assert_one_line_error(cli("train", f"--workdir={tmp_path}/d", "--image_size=16"), "image_size")
  assert_one_line_error(cli("evolve", f"--workdir={tmp_path}/e", "--selection=tradeoff",
                            "--selection_tolerance=-0.01"), "--selection_tolerance", "[0, 1]")


def test_resume_with_nothing_and_unwritable_workdir(cli, tmp_path):
  assert_one_line_error(cli("evolve", f"--workdir={tmp_path}/empty", "--resume"),
                        "no run to resume")
  locked = tmp_path / "locked"
  locked.write_text("a file, not a directory")
  assert_one_line_error(cli("evolve", f"--workdir={locked}/run"), "not writable")


def test_bench_missing_and_truncated_tflite(cli, tmp_path):
  assert_one_line_error(cli("bench", str(tmp_path / "missing.tflite")), "no such .tflite")
  broken = tmp_path / "broken.tflite"
  broken.write_bytes(b"TFL3" + b"\0" * 64)
  assert_one_line_error(cli("bench", str(broken)), "not a valid .tflite", "truncated")
  assert_one_line_error(cli("bench"), "no model given")


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None
                    and cuda.cuda_device_count()[0] > 0,
                    reason="TensorRT and an NVIDIA GPU are present: the engine file is read")
def test_bench_engine_without_tensorrt_says_why(cli, tmp_path):
  engine = tmp_path / "model.plan"
  engine.write_bytes(b"not an engine")
  proc = cli("bench", str(engine))
  assert_one_line_error(proc, "tensorrt")


@pytest.mark.parametrize("flag", ["--seed=-1", "--seed=4294967296"])
def test_a_seed_out_of_range_names_the_flag(cli, tmp_path, flag):
  assert_one_line_error(cli("evolve", f"--workdir={tmp_path}/run", flag), "--seed", "4294967295")
  assert not (tmp_path / "run").exists()


def test_resume_of_a_missing_workdir_creates_nothing(cli, tmp_path):
  assert_one_line_error(cli("evolve", f"--workdir={tmp_path}/none", "--resume"), "does not exist")
  assert not (tmp_path / "none").exists()


# Runs an entry point in this process's Python and says on stdout whether TensorFlow was
# imported by the time it exited (start-up muting hides it from -X importtime).
PROBE = """
import atexit, os, sys
atexit.register(lambda: print("tensorflow imported:", "tensorflow" in sys.modules))
for name in os.environ.get("PROBE_HIDE", "").split():  # as if not installed
  sys.modules[name] = None
import runpy
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("module,args,word,holds", [
    ("evolve", ["--r_clu=2"], "--r_clu", {}),
    ("train", ["--learning_rate=0"], "--learning_rate", {}),
    ("export", ["--format=onnx", "--out=m.onnx", "--batch_sizes=one"], "--batch_sizes", {}),
    ("report", [], "does not exist", None),
    # run directories are opened before it too
    ("evolve", ["--resume"], "no run to resume", None),
    ("train", [], "already holds a finished training run", {"summary.json": "{}"}),
    # --resume takes the saved flags; ones no flag takes are the configuration check's to tell
    ("train", ["--resume"], "different configuration: epochs='x' (now 30), image_size=16 (now "
                            "64)",
     {"config.json": '{"epochs": "x", "image_size": 16}', ".lock": ""}),
    # a flag's default spelled out changes nothing either way: not refused
    ("evolve", ["--objective=params", "--int8_granularity=per_channel", "--resume"],
     "no run to resume", None),
    ("report", [], "no finished generation", {"config.json": "{}"}),
    ("report", [], "is not a squish-evolve run (no config.json, no gen_*)", {"MODELS.md": ""}),
    ("report", [], "holds a squish-train run, not a squish-evolve run", {"summary.json": "{}"}),
    ("export", ["--format=saved_model", "--out=o"], "holds a squish-train run",
     {"model.keras": ""}),
    ("export", ["--format=saved_model", "--out=o"], "does not exist", None),
    # an extra that is not installed (tf2onnx hidden), before the run directory is read
    ("export", ["--format=tensorrt", "--out=o"], "--format=tensorrt needs tf2onnx; install them "
                                                 "with pip install 'squish_tf[onnx]'", None),
    # with Ray hidden, before the run directory is created
    ("evolve", ["--executor=ray"], "needs Ray", None),
    # a flag that would change nothing (a run's saved config.json may still hold one)
    ("evolve", ["--int8_granularity=per_tensor"], "--int8_granularity=per_tensor sets the int8 "
                                                  "files' weight scales: add --int8", None),
    ("evolve", ["--objective=macs"], "--objective=macs is what --selection=tradeoff weighs", None),
    # a flag missing its dashes would otherwise be ignored
    ("train", ["epochs=1"], "unexpected argument 'epochs=1'", {}),
    # absl's own refusals, in the same one line
    ("train", ["--no_such_flag=1"], "Unknown command line flag 'no_such_flag'", {}),
    ("evolve", ["--population=two"], "--population", {}),
])
def test_a_mistaken_flag_value_is_told_before_tensorflow_starts(tmp_path, module, args, word,
                                                                holds):
  """Checked before TensorFlow is imported: the one line comes at once, not ~8 s later.
  `holds`: the files --workdir holds (None: it does not exist)."""
  workdir = tmp_path / "run"
  if holds is not None:
    workdir.mkdir()
    for name, text in holds.items():
      (workdir / name).write_text(text)
  proc = subprocess.run([sys.executable, "-c", PROBE, f"squish_tf.cli.{module}",
                         f"--workdir={workdir}", *args], capture_output=True, text=True,
                        timeout=120, env={**os.environ, "PROBE_HIDE": "ray tf2onnx"})
  assert_one_line_error(proc, word)
  assert proc.stdout.strip() == "tensorflow imported: False", proc.stdout
  if holds is None:
    assert not workdir.exists()
  else:
    assert sorted(p.name for p in workdir.iterdir()) == sorted(holds)  # nothing touched


@pytest.mark.parametrize("where,word", [("--tflite_dir", "models.json not found"),
                                        ("--model_dir", "lacks model.tflite")])
def test_golden_without_a_release_is_told_before_tensorflow_starts(tmp_path, where, word):
  proc = subprocess.run([sys.executable, "-c", PROBE, "squish_tf.cli.golden",
                         f"{where}={tmp_path}", f"--out_dir={tmp_path / 'out'}"],
                        capture_output=True, text=True, timeout=120)
  assert_one_line_error(proc, word)
  assert proc.stdout.strip() == "tensorflow imported: False", proc.stdout
  assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,word", [
    (["--image_size=16", "tflite/squishednet-3/model.tflite"], "--image_size=16: the networks "
                                                               "need at least 32"),
    (["tflite"], "tflite is a directory but not a SavedModel (no saved_model.pb); pass "
                 ".tflite files, e.g. tflite/squishednet-1/model.tflite"),
    (["missing.plan"], "missing.plan: no such .tflite file (or TensorRT engine")])
def test_bench_mistakes_are_told_before_tensorflow_starts(args, word):
  proc = subprocess.run([sys.executable, "-c", PROBE, "squish_tf.cli.bench", *args], cwd=ROOT,
                        capture_output=True, text=True, timeout=120)
  assert_one_line_error(proc, word)
  assert proc.stdout.strip() == "tensorflow imported: False", proc.stdout


def test_a_plain_saved_model_is_not_taken_for_a_tftrt_one(tmp_path):
  """It was refused, after TensorFlow's start, as if this TensorFlow lacked TensorRT."""
  plain, tftrt = tmp_path / "plain", tmp_path / "tftrt"
  for directory, graph in ((plain, b"Conv2D Relu"), (tftrt, b"Conv2D TRTEngineOp")):
    directory.mkdir()
    (directory / "saved_model.pb").write_bytes(graph)
  proc = subprocess.run([sys.executable, "-c", PROBE, "squish_tf.cli.bench", str(plain)],
                        capture_output=True, text=True, timeout=120)
  assert_one_line_error(proc, f"{plain} is a SavedModel without TF-TRT engines")
  assert proc.stdout.strip() == "tensorflow imported: False", proc.stdout
  proc = subprocess.run([sys.executable, "-c", PROBE, "squish_tf.cli.bench", str(tftrt)],
                        capture_output=True, text=True, timeout=120)
  assert "without TF-TRT engines" not in proc.stderr  # on to TF-TRT's own checks


def test_ctrl_c_is_one_line_and_exit_130(capsys):
  def interrupted(argv):
    raise KeyboardInterrupt
  for resume in ("", "; --resume goes on"):
    with pytest.raises(SystemExit) as e:
      common.exit_on_user_error(interrupted, resume=resume)(["squish-evolve"])
    err = capsys.readouterr().err
    assert e.value.code == 130 and err == f"interrupted: what had finished is kept{resume}\n"


def test_sigterm_is_one_line_and_exit_143(capsys):
  """A scheduler's SIGTERM unwinds like Ctrl-C (workers ended, temporary files removed)."""
  def terminated(argv):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)  # the handler raises at once
    raise AssertionError("SIGTERM was not handled")
  before = signal.getsignal(signal.SIGTERM)
  try:
    with pytest.raises(SystemExit) as e:
      common.exit_on_user_error(terminated, resume="; --resume goes on")(["squish-train"])
  finally:
    signal.signal(signal.SIGTERM, before)
  err = capsys.readouterr().err
  assert e.value.code == 143 and err == "terminated: what had finished is kept; --resume goes on\n"


def test_bench_times_a_tflite_file_without_tensorflow(tmp_path):
  """squish-bench on .tflite files needs only LiteRT: its table in about a second, not after
  TensorFlow's ~8 s start."""
  released = os.path.join(ROOT, "tflite", "squishednet-3")
  proc = subprocess.run(
      [sys.executable, "-c", PROBE, "squish_tf.cli.bench", "--seconds=0.1",
       f"--json={tmp_path}/bench.json", os.path.join(released, "model.tflite"),
       os.path.join(released, "model_int8.tflite")], capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.strip().endswith("tensorflow imported: False"), proc.stdout
  assert "squishednet-3/model_int8.tflite" in proc.stdout
  assert [r["image_size"] for r in json.load(open(tmp_path / "bench.json"))] == [32, 32]


def _console_scripts() -> dict:
  """setup.cfg's console scripts: name -> module."""
  import configparser
  cfg = configparser.ConfigParser()
  cfg.read(os.path.join(ROOT, "setup.cfg"))
  lines = cfg["options.entry_points"]["console_scripts"].strip().splitlines()
  return {name.strip(): target.split(":")[0].strip()
          for name, target in (line.split("=") for line in lines)}


HELP_SHOWS = {"squish-evolve": ["--population", "--image_size", "--workdir", "--resume"],
              "squish-train": ["--epochs", "--dataset", "--workdir", "--resume"],
              "squish-export": ["--format", "--out", "--workdir"],
              "squish-bench": ["--threads", "--json"],
              "squish-report": ["--publish_dir", "--workdir"],
              "squish-golden": ["--out_dir", "--tflite_dir"]}


def test_every_console_script_is_checked_for_its_help():
  assert set(_console_scripts()) == set(HELP_SHOWS)


@pytest.mark.parametrize("script", sorted(HELP_SHOWS))
def test_helpshort_lists_the_flags_when_run_as_an_installed_script(script, tmp_path):
  """pip's launcher (bin/squish-evolve) is the main module there: it defines no flag and has
  no docstring, so absl's --helpshort showed nothing but "Try --helpfull"."""
  module = _console_scripts()[script]
  launcher = tmp_path / script  # what pip writes, in short
  launcher.write_text(f"import sys\nfrom {module} import run_main\nsys.exit(run_main())\n")
  proc = subprocess.run([sys.executable, str(launcher), "--helpshort"], cwd=ROOT,
                        capture_output=True, text=True, timeout=120)
  assert proc.stdout.startswith(f"{script}: "), proc.stdout[:300]  # the module's docstring
  for flag in HELP_SHOWS[script]:
    assert f"\n  {flag}:" in proc.stdout or f"\n  --[no]{flag[2:]}:" in proc.stdout, (
        flag, proc.stdout)
