"""End to end at toy size: two generations, report and release, SIGKILL and resume."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from squish_tf import config
from squish_tf.evolve import loop as evolve
from squish_tf.net import arch
from squish_tf.report import run_report, table2
from squish_tf.rundir import RunDir

TINY = dict(image_size=32, epochs=2, finetune_epochs=1, generations=2, bench_image_size=48,
            accuracy_floor=0.0, r_syn=0.8, r_clu=0.8, seed=3, int8=True)
TINY_FLAGS = [f"--{k}={v}" if not isinstance(v, bool) else f"--{k}" for k, v in TINY.items()]
KEYS = ("generation", "params_total", "params_alive", "macs", "top1_keras", "top1_tflite",
        "tflite_bytes", "tflite_gzip_bytes", "images_per_sec_b1", "images_per_sec_b32",
        "latency_ms_p50", "train_seconds", "wall_seconds")


def masks_of(workdir, generation):
  with np.load(os.path.join(RunDir(workdir).gen_dir(generation), "masks.npz")) as f:
    return {k: f[k] for k in arch.CONV_LAYERS}


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("evolve") / "run")
  records = evolve.run(config.EvolveConfig(**TINY), workdir)
  return workdir, records


def test_two_tiny_generations_record_everything(reference_run):
  workdir, records = reference_run
  assert [r["generation"] for r in records] == [0, 1, 2]
  lines = [json.loads(l) for l in open(os.path.join(workdir, "metrics.jsonl"))]
  assert [l["generation"] for l in lines] == [0, 1, 2]
  for r in lines:
    for key in KEYS:
      assert key in r, key
    gen = RunDir(workdir).gen_dir(r["generation"])
    for name in ("model.keras", "masks.npz", "spec.json", "model.tflite", "model.tflite.json"):
      assert os.path.exists(os.path.join(gen, name)), name
    assert r["tflite_bytes"] == os.path.getsize(os.path.join(gen, "model.tflite"))
    assert r["params_alive"] <= r["params_total"]
    assert abs(r["top1_keras"] - r["top1_tflite"]) <= 0.01
    # int8 is written only when it agrees with float32; a refusal is recorded as None.
    assert "tflite_int8_bytes" in r and "top1_tflite_int8" in r
    int8_path = os.path.join(gen, "model_int8.tflite")
    if r["tflite_int8_bytes"] is None:
      assert not os.path.exists(int8_path)
    else:
      assert os.path.getsize(int8_path) == r["tflite_int8_bytes"] < r["tflite_bytes"] / 3
  # Offspring are physically smaller: fewer parameters, smaller files, fewer MACs.
  assert records[2]["params_total"] < records[1]["params_total"] < records[0]["params_total"]
  assert records[2]["tflite_bytes"] < records[0]["tflite_bytes"]
  assert records[2]["macs"] < records[0]["macs"]
  assert records[2]["spec"]["conv10"] == 10
  for name in arch.CONV_LAYERS:  # heredity across saved generations, after surgery
    assert masks_of(workdir, 2)[name].sum() <= masks_of(workdir, 1)[name].sum()


def test_report_table_plots_and_release(reference_run, tmp_path):
  workdir, records = reference_run
  out = run_report.write_report(workdir, publish_dir=str(tmp_path / "tflite"), max_drop=1.0)
  text = open(out["report"]).read()
  assert "vs SqueezeNet v1.1 (paper, 4.9 MB)" in text and "vs AlexNet" in text
  assert "SquishedNet-1" in text
  for png in out["plots"]:
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
  ref = json.load(open(os.path.join(workdir, "reference", "squeezenet_v1_1_1000.json")))
  assert 4.5e6 < ref["tflite_bytes"] < 5.5e6  # 1,235,496 float32 parameters
  index = json.load(open(tmp_path / "tflite" / "models.json"))
  assert index and index[0]["name"] == "squishednet-1"
  for entry in index:
    d = tmp_path / "tflite" / entry["dir"]
    assert (d / "model.tflite").stat().st_size == entry["bytes"]
    assert len((d / "labels.txt").read_text().split()) == 10
    assert json.load(open(d / "preprocess.json"))["image_size"] == 32
  assert "SquishedNet-1" in (tmp_path / "tflite" / "MODELS.md").read_text()


def test_pareto_front_and_naming():
  recs = [{"generation": 0, "tflite_bytes": 100, "top1_val": 0.95},
          {"generation": 1, "tflite_bytes": 80, "top1_val": 0.96},
          {"generation": 2, "tflite_bytes": 60, "top1_val": 0.94},
          {"generation": 3, "tflite_bytes": 70, "top1_val": 0.93},  # dominated by 2
          {"generation": 4, "tflite_bytes": 40, "top1_val": 0.90}]  # too far below the ancestor
  assert [r["generation"] for r in table2.pareto_front(recs)] == [1, 2, 4]
  named = table2.name_squishednets(recs, max_drop=0.02, max_models=4)
  assert named == [{"name": "SquishedNet-1", "generation": 1},
                   {"name": "SquishedNet-2", "generation": 2}]


def test_sigkill_then_resume_loses_nothing_and_selects_the_same_masks(reference_run, tmp_path):
  workdir = str(tmp_path / "killed")
  cmd = [sys.executable, "-c", "from squish_tf.cli.evolve import run_main; run_main()",
         f"--workdir={workdir}", *TINY_FLAGS]
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
  proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 600
  while not os.path.exists(os.path.join(RunDir(workdir).gen_dir(1), "metrics.json")):
    assert proc.poll() is None, "the run ended before it could be killed"
    assert time.time() < deadline
    time.sleep(0.2)
  proc.send_signal(signal.SIGKILL)  # mid-run: generation 2 is in progress
  proc.wait()
  finished = RunDir(workdir).finished_generations()
  assert finished[:2] == [0, 1]
  before = open(os.path.join(RunDir(workdir).gen_dir(1), "model.tflite"), "rb").read()

  changed = subprocess.run(cmd + ["--resume", "--r_syn=0.5"], env=env, capture_output=True,
                           text=True)
  assert changed.returncode == 2 and "different configuration" in changed.stderr
  assert "r_syn" in changed.stderr

  resumed = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert RunDir(workdir).finished_generations() == [0, 1, 2]
  assert open(os.path.join(RunDir(workdir).gen_dir(1), "model.tflite"), "rb").read() == before
  assert not [p for p in os.listdir(workdir) if p.endswith(".partial")]
  reference_dir = reference_run[0]
  for g in (1, 2):
    ours, theirs = masks_of(workdir, g), masks_of(reference_dir, g)
    for name in arch.CONV_LAYERS:
      np.testing.assert_array_equal(ours[name], theirs[name], err_msg=f"gen {g} {name}")


def test_accuracy_floor_stops_the_run_and_keeps_earlier_generations(reference_run, tmp_path):
  workdir = str(tmp_path / "floor")
  ancestor = os.path.join(RunDir(reference_run[0]).gen_dir(0), "model.keras")
  cfg = config.EvolveConfig(**{**TINY, "accuracy_floor": 1.0, "ancestor": ancestor})
  records = evolve.run(cfg, workdir)
  assert [r["generation"] for r in records] == [0]
  state = json.load(open(os.path.join(workdir, "state.json")))
  assert "accuracy_floor" in state["stopped"] and state["generation"] == 1


def test_resume_reads_options_a_run_predates_as_their_defaults(tmp_path):
  workdir = str(tmp_path / "old")
  cfg = config.EvolveConfig(**TINY)
  evolve.start(cfg, workdir, resume=False)
  path = os.path.join(workdir, "config.json")
  saved = json.loads(open(path).read())
  del saved["int8_granularity"]  # as written before the option existed
  open(path, "w").write(json.dumps(saved))
  evolve.start(cfg, workdir, resume=True)
  from squish_tf.errors import UserError
  with pytest.raises(UserError, match="int8_granularity='per_channel' \\(now 'per_tensor'\\)"):
    evolve.start(config.EvolveConfig(**{**TINY, "int8_granularity": "per_tensor"}), workdir,
                  resume=True)
