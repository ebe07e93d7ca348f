"""End to end at toy size: two generations, report and release, SIGKILL and resume."""

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from squish_tf import config, files, rundir
from squish_tf.errors import UserError
from squish_tf.evolve import genome, offspring, opening
from squish_tf.evolve import loop as evolve
from squish_tf.net import arch
from squish_tf.net import model as model_lib
from squish_tf.report import run_report, table2
from squish_tf.rundir import RunDir

# 5 ancestor epochs: decisive enough that its int8 file passes verification (2 were not).
# Timings are recorded, not judged: 0.05 s each instead of 0.5 (~2 s of a toy generation's ~15).
TINY = dict(image_size=32, epochs=5, finetune_epochs=1, generations=2, bench_image_size=48,
            accuracy_floor=0.0, max_accuracy_drop=1.0, r_syn=0.8, r_clu=0.8, seed=3,
            int8=True, bench_seconds=0.05)
TINY_FLAGS = [f"--{k}={v}" if not isinstance(v, bool) else f"--{k}" for k, v in TINY.items()]
KEYS = ("generation", "params_total", "params_alive", "macs", "top1_keras", "top1_tflite",
        "tflite_bytes", "tflite_gzip_bytes", "images_per_sec_b1", "images_per_sec_b32",
        "latency_ms_p50", "train_seconds", "wall_seconds")


def from_reference(reference_run, **changes) -> config.EvolveConfig:
  """TINY continued from the reference run's ancestor, for tests of what the loop decides:
  no int8 files and timing at the training size (one conversion a generation, not three)."""
  ancestor = os.path.join(RunDir(reference_run[0]).gen_dir(0), "model.keras")
  return config.EvolveConfig(**{**TINY, "ancestor": ancestor, "int8": False,
                                "bench_image_size": TINY["image_size"], **changes})


def untrained(fn, arg_lists):
  """An executor for tests of what the loop does with offspring, not of how they train: each
  offspring drawn and squished as offspring_task draws it, its dead synapses zeroed, and
  judged untrained at validation top-1 0.5 (training is what the reference run tests)."""
  assert fn is offspring.offspring_task, fn
  results = []
  for cfg, spec, weights, masks, generation, k, head, _ in arg_lists:
    drawn = offspring.draw(cfg, spec, weights, masks, generation, k, head)
    weights = {name: (kernel * drawn.masks[name], bias * genome.alive_filters(drawn.masks[name]))
               for name, (kernel, bias) in drawn.weights.items()}
    results.append({"offspring": k, "top1_val": 0.5, "spec": drawn.spec, "weights": weights,
                     "masks": drawn.masks, "epochs": offspring.planned_epochs(cfg),
                     "phase_seconds": {}})
  return results


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
      assert os.path.getsize(int8_path) == r["tflite_int8_bytes"] < r["tflite_bytes"] / 2.5
  # Offspring are physically smaller: fewer parameters, smaller files, fewer MACs.
  assert records[2]["params_total"] < records[1]["params_total"] < records[0]["params_total"]
  assert records[2]["tflite_bytes"] < records[0]["tflite_bytes"]
  assert records[2]["macs"] < records[0]["macs"]
  assert records[2]["spec"]["conv10"] == 10
  for r in records[1:]:  # every epoch an offspring trained is on record (for matched budgets)
    assert r["offspring_epochs"] == TINY["finetune_epochs"] * (1 + r["milder_retries"])
  for name in arch.CONV_LAYERS:  # heredity across saved generations, after surgery
    assert masks_of(workdir, 2)[name].sum() <= masks_of(workdir, 1)[name].sum()


@pytest.mark.parametrize("damage,named", [("config.json", "config.json is missing"),
                                          ("labels.txt", "labels.txt is missing"),
                                          ("state.json", "state.json is damaged")])
def test_the_report_names_a_missing_or_damaged_run_file(reference_run, tmp_path, damage, named):
  workdir = _copy(reference_run, tmp_path)
  if damage == "state.json":
    open(os.path.join(workdir, damage), "w").write('{"stopped": "cut sh')
  else:
    os.remove(os.path.join(workdir, damage))
  with pytest.raises(UserError) as e:
    run_report.write_report(workdir, out_dir=str(tmp_path / "out"))
  assert named in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_a_config_without_what_the_release_reads_is_refused_before_anything_is_written(
    reference_run, tmp_path):
  workdir = _copy(reference_run, tmp_path)
  with open(os.path.join(workdir, "config.json"), "w") as f:
    json.dump({"image_size": 32}, f)
  out = tmp_path / "out"
  with pytest.raises(UserError, match=r"config.json lacks dataset, seed; restore it"):
    run_report.write_report(workdir, out_dir=str(out))
  assert not out.exists()


LACKS = "gen_001/metrics.json is damaged (lacks generation, top1_val"


@pytest.mark.parametrize("damage,content,named", [
    ("labels.txt", "a\nb\nc\n", "labels.txt has 3 labels but the run's networks have 10 "
                                   "classes; squish-evolve --resume on this run writes it again"),
    ("gen_001/metrics.json", "[]", LACKS),
    ("gen_001/metrics.json", "{}", LACKS),
    ("gen_000/model.keras.json", "[]", "gen_000/model.keras.json is damaged (no provenance)")])
def test_labels_or_records_that_do_not_fit_the_run_are_refused_before_anything_is_written(
    reference_run, tmp_path, damage, content, named):
  workdir = _copy(reference_run, tmp_path)
  open(os.path.join(workdir, damage), "w").write(content)
  out = tmp_path / "out"
  with pytest.raises(UserError) as e:
    run_report.write_report(workdir, out_dir=str(out))
  assert named in str(e.value) and "\n" not in str(e.value), str(e.value)
  assert not out.exists()


def test_a_report_never_deletes_what_is_not_a_release_nor_releases_nothing_over_one(
    reference_run, tmp_path, monkeypatch):
  workdir = _copy(reference_run, tmp_path)
  before = sorted(os.listdir(workdir))
  with pytest.raises(UserError, match=r"--publish_dir=.*run is a run directory \(.lock\), and "
                                      r"it would be replaced whole"):
    run_report.write_report(workdir, publish_dir=workdir, max_drop=1.0,
                            out_dir=str(tmp_path / "out"), latency_seconds=0.1)
  os.remove(os.path.join(workdir, ".lock"))  # as an older squish_tf left its runs
  with pytest.raises(UserError, match=r"--publish_dir=.*run holds other files \(no "
                                      r"models.json\), and it would be replaced whole"):
    run_report.write_report(workdir, publish_dir=workdir, max_drop=1.0,
                            out_dir=str(tmp_path / "out"), latency_seconds=0.1)
  before.remove(".lock")
  assert sorted(os.listdir(workdir)) == before  # the run is whole
  RunDir(workdir).records_to_report()
  release = tmp_path / "tflite"
  release.mkdir()
  (release / "models.json").write_text("the last release")
  (release / "run").mkdir()
  os.rename(workdir, release / "run" / "run")  # the run inside the release it would replace
  with pytest.raises(UserError, match=r"--publish_dir=.*tflite would hold the run \("):
    run_report.write_report(str(release / "run" / "run"), publish_dir=str(release))
  os.rename(release / "run" / "run", workdir)
  (release / "run").rmdir()
  with pytest.raises(UserError, match=r"--publish_dir=.*tflite would hold the report \("):
    run_report.write_report(workdir, publish_dir=str(release), out_dir=str(release / "report"))
  assert not (release / "report").exists()
  monkeypatch.setattr(table2, "name_squishednets", lambda *args: [])
  out = run_report.write_report(workdir, publish_dir=str(release), out_dir=str(tmp_path / "out"))
  assert out["named"] == [] and os.path.isfile(out["report"])
  assert os.listdir(release) == ["models.json"]  # kept, not replaced by an empty release
  assert (release / "models.json").read_text() == "the last release"


def test_report_table_plots_and_release(reference_run, tmp_path):
  workdir, records = reference_run
  out = run_report.write_report(workdir, publish_dir=str(tmp_path / "tflite"), max_drop=1.0,
                                latency_seconds=0.1)
  text = open(out["report"]).read()
  assert "vs SqueezeNet v1.1 (paper, 4.9 MB)" in text and "vs AlexNet" in text
  assert "SquishedNet-1" in text
  # At 32x32 the files store no inert taps; the report says what the ancestor's file would be
  # at 224, checked here against the ancestor converted as trained.
  import re

  import keras

  from squish_tf.export import litert
  ancestor = keras.saving.load_model(os.path.join(workdir, "gen_000", "model.keras"))
  stated = re.search(r"409,600 of the ancestor's 727,626 weights\): at 224x224 the ancestor's "
                     r"file would be about ([\d.]+) MB", text)
  assert stated and float(stated[1]) * 1e6 == pytest.approx(
      len(litert.to_tflite(ancestor, fold=False)), rel=0.01)
  for png in out["plots"]:
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
  ref = json.load(open(os.path.join(workdir, "reference", "squeezenet_v1_1_1000.json")))
  assert 4.5e6 < ref["tflite_bytes"] < 5.5e6  # 1,235,496 float32 parameters
  index = json.load(open(tmp_path / "tflite" / "models.json"))
  models = index["models"]
  assert models and models[0]["name"] == "squishednet-1"
  for entry in models:
    d = tmp_path / "tflite" / entry["dir"]
    [float32] = [f for f in entry["files"] if f["precision"] == "float32"]
    assert (d / "model.tflite").stat().st_size == float32["bytes"]
    assert float32["latency_seconds"] == 0.1 and float32["latency_ms_p50_b1"] > 0
    assert len((d / "labels.txt").read_text().split()) == 10
    assert json.load(open(d / "preprocess.json"))["image_size"] == 32
  models_md = (tmp_path / "tflite" / "MODELS.md").read_text()
  assert "SquishedNet-1" in models_md and "0.1 s per file and thread count" in models_md


def test_the_report_names_each_thread_count_the_generations_were_timed_on():
  records = [{"bench_threads": 2}, {"bench_threads": 2}]
  assert run_report.bench_threads(records) == "2 threads"
  records.append({"bench_threads": 1})  # resumed with --threads=1
  assert run_report.bench_threads(records) == "1 or 2 threads (changed on a resume)"


def test_a_damaged_reference_cache_is_measured_again(tmp_path):
  path = tmp_path / "reference" / "squeezenet_v1_1_1000.json"
  path.parent.mkdir()
  path.write_text('{"params": 1235')  # cut short
  figures = table2.reference_squeezenet(str(tmp_path))
  assert figures["params"] == 1_235_496 and 4.5e6 < figures["tflite_bytes"] < 5.5e6
  assert json.loads(path.read_text()) == figures
  path.write_text('{"params": 5, "tflite_bytes": null}')  # not sizes: measured again too
  assert table2.reference_squeezenet(str(tmp_path)) == figures


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
  # A polish (the same network trained on) replaces its parent, even at an equal top-1.
  polished = recs[:3] + [{"generation": 3, "tflite_bytes": 60, "top1_val": 0.94, "polish": True}]
  assert [n["generation"] for n in table2.name_squishednets(polished, 0.02, 4)] == [1, 3]


def test_sigkill_then_resume_loses_nothing_and_selects_the_same_masks(reference_run, tmp_path):
  workdir = str(tmp_path / "killed")
  # Its own ancestor, trained again in this process: the masks below then also show that
  # training repeats exactly. No int8 files, and offspring in the driver: the kill and the
  # resume are what is tested (a process worker dying with its driver: test_executors.py).
  cmd = [sys.executable, "-m", "squish_tf.cli.evolve", f"--workdir={workdir}", *TINY_FLAGS,
         "--noint8", "--executor=local"]
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
                           text=True, timeout=600)
  assert changed.returncode == 2 and "different configuration" in changed.stderr
  assert "r_syn" in changed.stderr

  # --resume alone: the flags the run was started with are taken from its config.json
  resumed = subprocess.run([*cmd[:4], "--resume", "--executor=local"], env=env,
                           capture_output=True, text=True, timeout=900)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert RunDir(workdir).finished_generations() == [0, 1, 2]
  assert open(os.path.join(RunDir(workdir).gen_dir(1), "model.tflite"), "rb").read() == before
  assert not [p for p in os.listdir(workdir) if p.endswith(".partial")]
  reference_dir = reference_run[0]
  for g in (1, 2):
    ours, theirs = masks_of(workdir, g), masks_of(reference_dir, g)
    for name in arch.CONV_LAYERS:
      np.testing.assert_array_equal(ours[name], theirs[name], err_msg=f"gen {g} {name}")


def test_the_loop_turns_deterministic_kernels_on_itself(monkeypatch, tmp_path):
  """conftest turns them on for every test, so only this notices the loop no longer doing it
  (a resumed run would then train other offspring than an uninterrupted one)."""
  import tensorflow as tf

  class TurnedOn(Exception):
    pass

  def turned_on():
    raise TurnedOn

  monkeypatch.setattr(tf.config.experimental, "enable_op_determinism", turned_on)
  with pytest.raises(TurnedOn):
    evolve.run(config.EvolveConfig(**TINY), str(tmp_path / "run"))


def test_accuracy_floor_stops_the_run_and_keeps_earlier_generations(reference_run, tmp_path):
  workdir = str(tmp_path / "floor")
  cfg = from_reference(reference_run, accuracy_floor=1.0, population=2, milder_retries=0)
  records = evolve.run(cfg, workdir, executor=untrained)
  assert [r["generation"] for r in records] == [0]
  state = json.load(open(os.path.join(workdir, "state.json")))
  assert "accuracy_floor" in state["stopped"] and state["generation"] == 1


def test_resume_reads_options_a_run_predates_as_their_defaults(reference_run, tmp_path):
  workdir = str(tmp_path / "old")
  shutil.copytree(reference_run[0], workdir)
  cfg = config.EvolveConfig(**TINY)
  path = os.path.join(workdir, "config.json")
  saved = json.loads(open(path).read())
  del saved["int8_granularity"]  # as written before the option existed
  open(path, "w").write(json.dumps(saved))
  opening.start(cfg, workdir, resume=True)
  with pytest.raises(UserError, match="int8_granularity='per_channel' \\(now 'per_tensor'\\)"):
    opening.start(config.EvolveConfig(**{**TINY, "int8_granularity": "per_tensor"}), workdir,
                 resume=True)


# --- Run directories that never lie ------------------------------------------------------------

def _copy(reference_run, tmp_path):
  workdir = str(tmp_path / "run")
  shutil.copytree(reference_run[0], workdir)
  return workdir


def _truncate(path):
  data = open(path, "rb").read()
  open(path, "wb").write(data[:len(data) // 2])


def _flip_middle(path):
  """Damage that keeps the size: 4,000 bytes in the middle inverted."""
  data = bytearray(open(path, "rb").read())
  middle = len(data) // 2
  data[middle:middle + 4000] = bytes(b ^ 0xFF for b in data[middle:middle + 4000])
  open(path, "wb").write(bytes(data))


DAMAGES = {
    "metrics_deleted": (lambda w: os.remove(f"{w}/gen_001/metrics.json"), "gen_001/metrics.json"),
    "masks_deleted": (lambda w: os.remove(f"{w}/gen_002/masks.npz"), "gen_002/masks.npz"),
    "keras_cut": (lambda w: _truncate(f"{w}/gen_001/model.keras"), "gen_001/model.keras"),
    "tflite_cut": (lambda w: _truncate(f"{w}/gen_002/model.tflite"), "gen_002/model.tflite"),
    "tflite_flipped": (lambda w: _flip_middle(f"{w}/gen_002/model.tflite"),
                       "gen_002/model.tflite is damaged (its SHA-256"),
    "int8_deleted": (lambda w: os.remove(f"{w}/{_int8_file(w)}"), None),  # named at run time
    "generation_gap": (lambda w: shutil.rmtree(f"{w}/gen_001"), "gen_001"),
    "config_cut": (lambda w: _truncate(f"{w}/config.json"), "config.json"),
}


def _int8_file(workdir):
  """The int8 file of the first generation that has one (verification may refuse a toy
  generation's int8 file)."""
  for g in (1, 2, 0):
    if os.path.exists(f"{workdir}/gen_{g:03d}/model_int8.tflite"):
      return f"gen_{g:03d}/model_int8.tflite"
  raise AssertionError("the reference run wrote no int8 file at all")


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_resume_names_the_damaged_file_and_the_fix(reference_run, tmp_path, damage):
  workdir = _copy(reference_run, tmp_path)
  harm, named = DAMAGES[damage]
  named = named or _int8_file(workdir)
  harm(workdir)
  before = sorted(os.path.relpath(os.path.join(d, f), workdir)
                  for d, _, fs in os.walk(workdir) for f in fs)
  with pytest.raises(UserError) as e:
    opening.start(config.EvolveConfig(**TINY), workdir, resume=True)
  message = str(e.value)
  assert "\n" not in message and named in message, message
  assert ("--resume" in message) or ("restore it" in message), message
  after = sorted(os.path.relpath(os.path.join(d, f), workdir)
                 for d, _, fs in os.walk(workdir) for f in fs)
  assert after == before  # nothing finished is touched by a refused resume


def test_resume_rebuilds_a_cut_metrics_jsonl(reference_run, tmp_path):
  workdir = _copy(reference_run, tmp_path)
  path = os.path.join(workdir, "metrics.jsonl")
  _truncate(path)
  opening.start(config.EvolveConfig(**TINY), workdir, resume=True)
  assert [json.loads(line)["generation"] for line in open(path)] == [0, 1, 2]


def test_the_cli_refuses_a_damaged_run_in_one_line(cli, reference_run, tmp_path):
  workdir = _copy(reference_run, tmp_path)
  os.remove(f"{workdir}/gen_002/masks.npz")
  proc = cli("evolve", f"--workdir={workdir}", *TINY_FLAGS, "--resume")
  assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
  assert [l for l in proc.stderr.splitlines() if l.strip()] == [
      l for l in proc.stderr.splitlines() if l.startswith("error:")], proc.stderr[-2000:]
  assert "gen_002/masks.npz is missing" in proc.stderr


def test_a_run_that_failed_before_finishing_a_generation_can_be_rerun(tmp_path):
  workdir = str(tmp_path / "run")
  cfg = config.EvolveConfig(**TINY)
  opening.start(cfg, workdir, resume=False)  # config.json written ...
  os.makedirs(os.path.join(workdir, "gen_000.partial"))  # ... then a crash in generation 0
  opening.start(config.EvolveConfig(**{**TINY, "r_syn": 0.5}), workdir, resume=False)
  opening.start(cfg, workdir, resume=True)  # either way, nothing finished stands in the way
  assert json.load(open(os.path.join(workdir, "config.json")))["r_syn"] == cfg.r_syn
  assert not os.path.exists(os.path.join(workdir, "gen_000.partial"))


def test_resume_of_a_missing_directory_creates_nothing(tmp_path):
  workdir = tmp_path / "missing"
  with pytest.raises(UserError, match="does not exist"):
    opening.start(config.EvolveConfig(**TINY), str(workdir), resume=True)
  assert not workdir.exists()


@pytest.mark.parametrize("change,word", [({"seed": 4}, "split_seed"),
                                         ({"image_size": 48}, "image_size")])
def test_an_ancestor_from_another_split_or_size_is_refused(reference_run, tmp_path, change, word):
  ancestor = os.path.join(RunDir(reference_run[0]).gen_dir(0), "model.keras")
  cfg = config.EvolveConfig(**{**TINY, **change, "ancestor": ancestor})
  with pytest.raises(UserError, match=word):
    evolve.run(cfg, str(tmp_path / "run"))


def test_an_ancestor_without_provenance_is_refused(reference_run, tmp_path):
  ancestor = str(tmp_path / "model.keras")
  shutil.copy(os.path.join(RunDir(reference_run[0]).gen_dir(0), "model.keras"), ancestor)
  cfg = config.EvolveConfig(**{**TINY, "ancestor": ancestor})
  with pytest.raises(UserError, match="no provenance record"):
    evolve.run(cfg, str(tmp_path / "run"))


def test_paper_synthesis_scratch_offspring_keep_the_ancestors_relu_head(tmp_path):
  """A ReLU-headed ancestor: every offspring, drawn in `paper` mode and trained from
  scratch, computes the same head function."""
  from squish_tf.net import model
  from squish_tf.train import provenance
  ancestor = str(tmp_path / "relu.keras")
  net = model.squeezenet(image_size=32, seed=1, head_activation="relu")
  net.save(ancestor)
  provenance.write(ancestor, provenance.record("digits", TINY["seed"], 32,
                                               [str(d) for d in range(10)]))
  cfg = config.EvolveConfig(**{**TINY, "generations": 1, "int8": False,
                               "synthesis": "paper", "offspring_init": "scratch", "epochs": 1,
                               "r_syn": 0.9, "r_clu": 0.9, "ancestor": ancestor})
  records = evolve.run(cfg, str(tmp_path / "run"))
  assert [r["generation"] for r in records] == [0, 1]
  assert records[1]["params_total"] < records[0]["params_total"]
  import keras
  child = keras.saving.load_model(RunDir(str(tmp_path / "run")).gen_file(1, "model.keras"))
  assert model.options_of(child)["head_activation"] == "relu"


def test_report_releases_into_the_run_by_default_and_writes_where_out_says(reference_run,
                                                                           tmp_path):
  workdir = _copy(reference_run, tmp_path)
  out = run_report.write_report(workdir, max_drop=1.0, latency_seconds=0.1)
  assert out["release"] == os.path.join(workdir, "release")
  assert json.load(open(os.path.join(workdir, "release", "models.json")))

  def listing():
    return sorted((os.path.relpath(os.path.join(d, f), workdir),
                   os.path.getmtime(os.path.join(d, f))) for d, _, fs in os.walk(workdir)
                  for f in fs)
  before = listing()
  elsewhere = tmp_path / "report"
  out = run_report.write_report(workdir, max_drop=1.0, out_dir=str(elsewhere),
                                latency_seconds=0.1)
  assert listing() == before  # the run directory is only read
  assert out["report"] == str(elsewhere / "report.md") and (elsewhere / "release").is_dir()
  blocked = tmp_path / "a_file"
  blocked.write_text("not a directory")
  with pytest.raises(UserError, match="not writable.*--out"):
    run_report.write_report(workdir, max_drop=1.0, out_dir=str(blocked / "report"))


def test_a_relative_floor_retries_milder_then_stops_keeping_what_is_finished(reference_run,
                                                                             tmp_path):
  cfg = from_reference(reference_run, generations=1, max_accuracy_drop=0.0, accuracy_floor=1.0,
                       milder_retries=1)
  records = evolve.run(cfg, str(tmp_path / "run"), executor=untrained)
  assert [r["generation"] for r in records] == [0]
  stopped = json.load(open(tmp_path / "run" / "state.json"))["stopped"]
  assert "--max_accuracy_drop=0.0" in stopped and "r_syn=0.9" in stopped  # halfway to 1


def test_adaptive_factors_start_where_the_last_generation_was_fit_and_survive_a_resume(
    reference_run, tmp_path):
  # r_clu 0.8 -> 0.9 -> 0.95: the spy makes only offspring drawn at 0.95 or milder fit.
  cfg = from_reference(reference_run, generations=2, accuracy_floor=0.5, adaptive_factors=True)
  drawn = []
  def judge(fn, arg_lists):
    drawn.extend(round(args[0].r_clu, 4) for args in arg_lists)
    results = untrained(fn, arg_lists)
    return [{**r, "top1_val": float(args[0].r_clu >= 0.95)}
            for r, args in zip(results, arg_lists)]
  workdir = str(tmp_path / "run")
  evolve.run(cfg, workdir, executor=judge)
  # Generation 1 retries twice; generation 2 starts at the level that bred generation 1.
  assert drawn == [0.8, 0.9, 0.95, 0.95]
  # Resumed: generation 2 was fit at its first draw, so generation 3 tries one level harsher.
  records = evolve.run(dataclasses.replace(cfg, generations=3), workdir, resume=True,
                       executor=judge)
  assert drawn == [0.8, 0.9, 0.95, 0.95, 0.9, 0.95]
  assert [(r["milder_level"], r["milder_retries"], r["offspring_epochs"]) for r in records[1:]] \
      == [(2, 2, 3), (2, 0, 1), (2, 1, 2)]
  assert [r["offspring"] for r in records[1:]] == [2, 2, 2]  # level 2's random stream
  # Level 2 is the mildest (--milder_retries=2): a generation refused there stops the run.
  def refuse(fn, arg_lists):
    return [{**r, "top1_val": 0.0} for r in judge(fn, arg_lists)]
  records = evolve.run(dataclasses.replace(cfg, generations=4), workdir, resume=True,
                       executor=refuse)
  assert drawn[6:] == [0.95] and len(records) == 4
  assert "r_clu=0.95" in json.load(open(os.path.join(workdir, "state.json")))["stopped"]
  with pytest.raises(UserError, match="--adaptive_factors .* --milder_retries >= 1"):
    config.EvolveConfig(adaptive_factors=True, milder_retries=0)


def test_an_offspring_below_the_floor_trains_on_for_the_recovery_epochs(reference_run):
  parent, masks = evolve._load_generation(RunDir(reference_run[0]), 0)
  spec, weights = model_lib.spec_of(parent), model_lib.get_weights(parent)
  cfg = config.EvolveConfig(**{**TINY, "recovery_epochs": 2})
  args = (spec, weights, masks, 1, 0, model_lib.options_of(parent)["head_activation"])
  above = offspring.offspring_task(cfg, *args, floor=0.0)
  below = offspring.offspring_task(cfg, *args, floor=1.01)  # no network reaches 101%
  assert above["epochs"] == TINY["finetune_epochs"]
  assert below["epochs"] == TINY["finetune_epochs"] + 2
  assert below["spec"] == above["spec"]  # the same offspring, trained on
  assert any(not np.array_equal(below["weights"][k][0], above["weights"][k][0])
             for k in below["weights"])
  for name in arch.CONV_LAYERS:  # its dead synapses stayed dead through the extra epochs
    assert not np.any(below["weights"][name][0][below["masks"][name] == 0]), name
  with pytest.raises(UserError, match="--recovery_epochs must be >= 0"):
    config.EvolveConfig(recovery_epochs=-1)


def test_polishing_writes_the_last_generation_trained_on_once(reference_run, tmp_path):
  cfg = from_reference(reference_run, generations=1, polish_epochs=2)
  workdir = str(tmp_path / "run")
  calls = []
  def spy(fn, arg_lists):  # what each task is given, then run here (the polish trained)
    calls.extend((fn.__name__, args[5:]) for args in arg_lists)
    return (evolve.local_map if fn is offspring.polish_task else untrained)(fn, arg_lists)
  records = evolve.run(cfg, workdir, executor=spy)
  floor = evolve.floor_for(cfg, records[0]["top1_val"])
  head = calls[0][1][1]
  assert calls == [("offspring_task", (0, head, floor)), ("polish_task", (0, head))]
  assert [r["generation"] for r in records] == [0, 1, 2]
  last, polished = records[1], records[2]
  assert polished["polish"] and polished["offspring_epochs"] == 2
  assert table2.gen_label(polished) == "2 (polished)" and table2.gen_label(last) == "1"
  assert polished["spec"] == last["spec"] and polished["tflite_bytes"] == last["tflite_bytes"]
  net, masks = evolve._load_generation(RunDir(workdir), 2)
  for name in arch.CONV_LAYERS:  # the same genome, trained on, its dead synapses still zero
    np.testing.assert_array_equal(masks[name], masks_of(workdir, 1)[name], err_msg=name)
    assert not np.any(net.get_layer(name).get_weights()[0][~masks[name]]), name
  files = [open(os.path.join(RunDir(workdir).gen_dir(g), "model.tflite"), "rb").read()
           for g in (1, 2)]
  assert files[0] != files[1]
  # A resume finds the run polished and adds nothing.
  assert [r["generation"] for r in evolve.run(cfg, workdir, resume=True)] == [0, 1, 2]
  with pytest.raises(UserError, match="--polish_epochs must be >= 0"):
    config.EvolveConfig(polish_epochs=-1)


def test_a_stall_ends_the_run_and_a_resume_with_more_patience_goes_on(reference_run, tmp_path):
  # A channel multiple above every layer's width leaves each layer at its parent's count: every
  # offspring has its parent's filter counts, as at the floor of a long run.
  base = dict(channel_multiple=512, generations=4)
  workdir = str(tmp_path / "run")
  records = evolve.run(from_reference(reference_run, **base, stall_generations=1), workdir,
                       executor=untrained)
  assert [r["generation"] for r in records] == [0, 1]
  assert records[1]["spec"] == records[0]["spec"]
  state = json.load(open(os.path.join(workdir, "state.json")))
  assert state["stall"] and "--stall_generations" in state["stopped"], state
  records = evolve.run(from_reference(reference_run, **base, stall_generations=2), workdir,
                       resume=True, executor=untrained)
  assert [r["generation"] for r in records] == [0, 1, 2]
  state = json.load(open(os.path.join(workdir, "state.json")))
  assert "2 generation(s) in a row" in state["stopped"], state


def test_draws_that_cut_a_class_off_retry_milder_then_stop_the_run_in_one_message(
    reference_run, tmp_path, monkeypatch):
  """NoInputForClass is the factors' doing and the same at every resume: a milder level is
  drawn; when every level fails so, the run stops, keeping what it finished."""
  cfg = from_reference(reference_run, generations=1)
  no_input = offspring.NoInputForClass("8 draws each left classes [3] reading nothing")
  def cut_off_below(level):  # offspring drawn harsher than `level` fail as a draw would
    def executor(fn, arg_lists):
      harsh = [args for args in arg_lists if args[5] < level * cfg.population]
      kept = untrained(fn, arg_lists[len(harsh):])
      return [offspring.no_input_result(a, no_input) for a in harsh] + kept
    return executor
  records = evolve.run(cfg, str(tmp_path / "milder"), executor=cut_off_below(1))
  assert [r["generation"] for r in records] == [0, 1] and records[1]["milder_retries"] == 1
  records = evolve.run(cfg, str(tmp_path / "never"), executor=cut_off_below(99))
  assert [r["generation"] for r in records] == [0]
  state = json.load(open(tmp_path / "never" / "state.json"))
  assert "no input from the image" in state["stopped"] and "--r_syn" in state["stopped"]
  # what the task itself returns when every draw cuts a class off (in any executor)
  def cut_off(*_):
    raise no_input
  monkeypatch.setattr(offspring, "draw", cut_off)
  parent, masks = evolve._load_generation(RunDir(reference_run[0]), 0)
  args = (cfg, model_lib.spec_of(parent), model_lib.get_weights(parent), masks, 1, 0)
  assert offspring.offspring_task(*args) == offspring.no_input_result(args, no_input)


def test_a_missing_generation_is_named_with_the_ones_to_remove(tmp_path):
  run = RunDir(str(tmp_path))
  os.makedirs(run.gen_dir(1))
  os.makedirs(run.gen_dir(2))
  with pytest.raises(UserError, match=r"gen_000 is missing but .*gen_001 exists; put it back, "
                                      r"or remove .*gen_001 and every later gen_\* directory, "
                                      r"then rerun with --resume to compute 3 generations again"):
    run.check()


def test_a_run_in_use_by_another_process_is_refused_and_left_as_it_is(
    reference_run, tmp_path, held_elsewhere):
  workdir = _copy(reference_run, tmp_path)
  os.makedirs(os.path.join(workdir, "gen_003.partial"))  # the other process's generation
  holder = held_elsewhere(workdir, "squish-evolve")
  with pytest.raises(UserError, match=rf"is in use by squish-evolve \(pid {holder.pid}\)"):
    opening.start(config.EvolveConfig(**TINY), workdir, resume=True)
  assert os.path.isdir(os.path.join(workdir, "gen_003.partial"))  # not cleared under it


def test_a_squish_train_directory_is_not_taken_for_an_evolution(tmp_path):
  finished, stopped = tmp_path / "finished", tmp_path / "stopped"
  for name in ("summary.json", "config.json"):
    finished.mkdir(exist_ok=True)
    (finished / name).write_text("{}")
  stopped.mkdir()  # killed in training: squish-train --resume would go on from its checkpoint
  (stopped / "config.json").write_text("{}")
  (stopped / "checkpoints").mkdir()
  for workdir, resume in ((finished, True), (stopped, False)):
    before = sorted(os.listdir(workdir))
    with pytest.raises(UserError, match="holds a squish-train run, not a squish-evolve run"):
      opening.start(config.EvolveConfig(), str(workdir), resume=resume)
    assert sorted(os.listdir(workdir)) == before  # not even a lock file


def test_nothing_to_resume_leaves_an_empty_directory_empty(tmp_path):
  with pytest.raises(UserError, match="holds no run to resume"):
    opening.start(config.EvolveConfig(), str(tmp_path), resume=True)
  assert os.listdir(tmp_path) == []


def test_a_directory_of_other_files_is_taken_by_neither_run_nor_replaced_by_a_release(tmp_path):
  """A run in the release folder tflite/ (or a project, or a home directory) would mix its files
  with the release's; a later --publish_dir there replaced the folder whole, run and all."""
  release = tmp_path / "release"
  shutil.copytree(os.path.join(os.path.dirname(os.path.dirname(__file__)), "tflite"), release)
  before = sorted(os.listdir(release))
  with pytest.raises(UserError, match=r"release holds other files \(MODELS.md, check_images.npz, "
                                      r"models.json, ...\) and no squish-evolve run; name a new "
                                      r"or empty --workdir"):
    opening.start(config.EvolveConfig(), str(release), resume=False)
  for overwrite in (False, True):
    with pytest.raises(UserError, match=r"release holds other files \(.*\) and no squish-train "
                                        r"run; name a new or empty --workdir"):
      rundir.check_training_dir(str(release), overwrite=overwrite)
  assert sorted(os.listdir(release)) == before  # not even a lock file
  run = tmp_path / "run"
  run.mkdir()
  files.hold(str(run), "squish-train")
  files.release(str(run))
  (run / "models.json").write_text("{}")  # as if it were a release
  with pytest.raises(UserError, match=r"--publish_dir=.*run is a run directory \(.lock\), and "
                                      r"it would be replaced whole"):
    files.check_replaceable(str(run), "models.json", "--publish_dir")


def test_a_finished_run_leaves_its_directory_unlocked(reference_run, held_elsewhere):
  held_elsewhere(reference_run[0], "squish-evolve")  # refused if this process still held it


def test_an_ancestor_that_is_not_a_whole_keras_file_is_named(reference_run, tmp_path):
  source = RunDir(reference_run[0]).gen_file(0, "model.keras")
  cut = tmp_path / "cut.keras"
  cut.write_bytes(open(source, "rb").read()[:5000])
  shutil.copy(source + ".json", str(cut) + ".json")
  with pytest.raises(UserError, match=r"cut.keras is damaged .*write it again with squish-train"):
    evolve._ancestor(config.EvolveConfig(ancestor=str(cut)), None, None)
  tflite = RunDir(reference_run[0]).gen_file(0, "model.tflite")
  with pytest.raises(UserError, match=r"model.tflite: is not a .keras file; pass a model.keras"):
    evolve._ancestor(config.EvolveConfig(ancestor=tflite), None, None)


def test_generations_from_1000_on_are_found(tmp_path):
  run = RunDir(str(tmp_path))
  for g in (998, 999, 1000, 1001):
    os.makedirs(run.gen_dir(g))
    open(os.path.join(run.gen_dir(g), "metrics.json"), "w").write("{}")
  os.makedirs(tmp_path / "gen_0005")  # not a name the run writes
  assert run.gen_dir(1000).endswith("gen_1000")
  assert run.finished_generations() == run.generation_dirs() == [998, 999, 1000, 1001]


def test_offspring_labels_name_the_milder_level_instead_of_counting_past_the_population():
  assert [evolve.offspring_label(i, 2) for i in range(6)] == [
      "offspring 1/2", "offspring 2/2", "offspring 1/2 (milder level 1)",
      "offspring 2/2 (milder level 1)", "offspring 1/2 (milder level 2)",
      "offspring 2/2 (milder level 2)"]


def test_a_target_ends_the_run_and_a_resume_with_another_goes_on(reference_run, tmp_path):
  workdir = str(tmp_path / "run")
  # timed at another size than it trains at: the release-size figures must not be the timing's
  base = dict(channel_multiple=8, bench_image_size=48)
  records = evolve.run(from_reference(reference_run, **base, target_size_kb=1e9), workdir,
                       executor=untrained)
  assert [r["generation"] for r in records] == [0, 1]
  assert "target_size_kb" in json.load(open(os.path.join(workdir, "state.json")))["stopped"]
  records = evolve.run(from_reference(reference_run, **base, target_size_kb=1.0), workdir,
                       resume=True, executor=untrained)
  assert [r["generation"] for r in records] == [0, 1, 2]
  # it ended at --generations: state.json no longer says it stopped (the report reads it)
  assert json.load(open(os.path.join(workdir, "state.json"))) == {}
  for r in records[1:]:  # widths rounded, and the release-size figures recorded
    assert all(v % 8 == 0 for k, v in r["spec"].items() if k != "conv10"), r["spec"]
    assert r["macs_release"] == arch.macs(r["spec"], TINY["image_size"])
    assert r["latency_ms_p50_release_t1"] > 0 and r["latency_ms_p50_release_tall"] > 0
    assert r["release_threads_all"] >= 1 and r["macs_224"] > r["macs_release"]
