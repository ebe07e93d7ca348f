"""Every script in benchmarks/ runs end to end at toy size and writes its results files.

The figures mean nothing at this size; what is checked is that each script still works
against the package and writes what its README promises.
"""

import glob
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOY_EVOLUTION = ["--generations=1", "--image_size=32", "--epochs=1", "--finetune_epochs=1",
                 "--bench_image_size=32", "--accuracy_floor=0", "--max_accuracy_drop=1",
                 "--bench_seconds=0.05", "--executor=local"]


def run_script(name, *args, timeout=900):
  proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", name), *args],
                        capture_output=True, text=True, timeout=timeout,
                        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert proc.returncode == 0, proc.stderr[-4000:]
  return proc


def results(results_dir, name):
  with open(os.path.join(results_dir, f"{name}.json"), encoding="utf-8") as f:
    figures = json.load(f)
  text = open(os.path.join(results_dir, f"{name}.md"), encoding="utf-8").read()
  return figures, text


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
  """evolution_goals.py runs squish-evolve itself (toy flags) and reports on it."""
  base = tmp_path_factory.mktemp("bench")
  workdir, out = str(base / "run"), str(base / "results")
  run_script("evolution_goals.py", f"--workdir={workdir}", f"--results_dir={out}",
             "--seconds=0.2", "--evolve_flags=" + ",".join(TOY_EVOLUTION))
  return workdir, out


def test_evolution_goals(toy_run):
  workdir, out = toy_run
  figures, text = results(out, "evolution_goals")
  assert figures["run_wall_seconds"] > 0 and figures["smallest"]["generation"] == 1
  assert len(figures["goals"]) == 6 and "| goal | measured | met |" in text
  assert os.path.isfile(os.path.join(workdir, "report.md"))


def test_population_executors(tmp_path):
  out = str(tmp_path / "results")
  run_script("population_executors.py", f"--workdir={tmp_path / 'pop'}", f"--results_dir={out}",
             "--image_size=32", "--ancestor_epochs=1", "--generations=1", "--population=2",
             "--finetune_epochs=1", "--variants=local", "--accuracy_floor=0",
             "--max_accuracy_drop=1", "--bench_seconds=0.05")
  figures, text = results(out, "population_executors")
  [row] = figures["runs"]
  assert row["variant"] == "local" and row["selected"] in ([0], [1])
  assert "local" in text


def test_layer_latency_steps_each_layer_both_ways(tmp_path):
  from squish_tf.net import arch, model
  spec = {n: 8 for n in arch.CONV_LAYERS}
  spec.update({"conv1": 16, "fire9_expand1x1": 24, arch.HEAD: 10})
  path = str(tmp_path / "small" / "model.keras")
  os.makedirs(os.path.dirname(path))
  model.squeezenet(spec, 10, image_size=32, seed=0).save(path)
  out = str(tmp_path / "results")
  # Three layers of the 25 (each step is a conversion): the first, a squeeze, the last.
  run_script("layer_latency.py", f"--models={path}", f"--results_dir={out}", "--copies=2",
             "--seconds=0.02", "--rounds=1", "--tag=toy",
             "--layers=fire9_expand1x1,conv1,fire2_squeeze1x1")
  figures, text = results(out, "layer_latency_toy")
  rows = {r["layer"]: r for r in figures["layers"]}
  assert list(rows) == ["conv1", "fire2_squeeze1x1", "fire9_expand1x1"]  # network order
  assert "--layers=conv1,fire2_squeeze1x1,fire9_expand1x1" in figures["command"]
  # conv1 reads the image (3x3x3 plus a bias per filter) and fire2's squeeze reads conv1.
  assert rows["conv1"]["narrower"]["params"] == -8 * (27 + 1) - 8 * spec["fire2_squeeze1x1"]
  assert rows["fire9_expand1x1"]["wider"]["params"] == 8 * (8 + 1) + 8 * spec[arch.HEAD]
  assert "narrower" not in rows["fire2_squeeze1x1"]  # 8 - 8 leaves no filter
  [network] = figures["networks"]
  assert network["model"] == "small" and len(network["p50_us"]) == 2
  assert network["params"] == arch.param_count(spec)
  assert "| small | conv1 | 16 |" in text


def test_layer_latency_steps_every_layer_but_the_head_unless_told():
  sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
  import layer_latency

  from squish_tf.errors import UserError
  from squish_tf.net import arch
  every = [n for n in arch.CONV_LAYERS if n != arch.HEAD]
  assert layer_latency.steppable_layers(None) == every and len(every) == 25
  spec = {n: 8 for n in arch.CONV_LAYERS}
  stepped = layer_latency.variants(spec, 8, 2, every)
  assert len(stepped) == 2 + 25  # the copies, then each layer 8 wider (8 narrower is none)
  assert layer_latency.steppable_layers(["conv1", ""]) == ["conv1"]  # --layers=conv1,
  for bad in (["conv10"], ["fire2_squeez1x1"]):
    with pytest.raises(UserError, match="--layers: .* is not a steppable conv layer"):
      layer_latency.steppable_layers(bad)


def test_layer_latency_measures_each_step_against_the_copies_median():
  sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
  import layer_latency
  base = {"model": "m", "layer": "", "delta": 0, "width": None, "params": 100, "macs": 1000}
  timed = [{**base, "p50_us": us} for us in (10.0, 10.4, 10.2, 12.0)]  # median 10.3
  timed += [{**base, "layer": "conv1", "delta": -8, "width": 16, "params": 80, "macs": 700,
             "p50_us": 9.8},
            {**base, "layer": "conv1", "delta": 8, "width": 16, "params": 120, "macs": 1300,
             "p50_us": 12.6}]
  [row], floor = layer_latency.layer_rows("m", timed)
  assert row["narrower"] == {"params": -20, "macs": -300, "us": -0.5}
  assert row["wider"] == {"params": 20, "macs": 300, "us": 2.3}
  assert floor["spread_us"] == 2.0 and floor["p50_us"] == [10.0, 10.4, 10.2, 12.0]


def test_layer_latency_names_a_missing_model_and_a_shared_label(tmp_path):
  def refused(models):
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "layer_latency.py"),
         f"--models={models}", f"--results_dir={tmp_path}"],
        capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert proc.returncode == 2, proc.stderr[-2000:]
    return proc.stderr

  stderr = refused(tmp_path / "none.keras")
  assert stderr.strip().splitlines()[-1].startswith("error: --models:")
  same = tmp_path / "gen_053" / "model.keras"  # two seeds' files, one folder name
  assert "two models share a label" in refused(f"{same},{same}")


def test_evolution_goals_runs_this_interpreters_evolve_and_names_its_failure(tmp_path):
  """The run is started with this Python, not a `squish-evolve` looked up on PATH (absent
  when the venv is not activated); its failure ends the script in one line."""
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"}
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, "benchmarks", "evolution_goals.py"),
       f"--workdir={tmp_path / 'run'}", f"--results_dir={tmp_path / 'results'}",
       f"--evolve_flags=--dataset=folder:{tmp_path / 'missing'}"],
      capture_output=True, text=True, timeout=300, env=env)
  assert proc.returncode == 1, proc.stderr[-2000:]
  assert "data folder" in proc.stderr  # squish-evolve's own message
  assert proc.stderr.strip().splitlines()[-1].startswith("error: squish-evolve exited with 2")
  assert "Traceback" not in proc.stderr


def test_pareto_names_the_log_of_a_seed_that_failed(tmp_path):
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, "benchmarks", "pareto.py"), "--seeds=0,1",
       f"--workdir={tmp_path / 'work'}", f"--dataset=folder:{tmp_path / 'missing'}"],
      capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert proc.returncode == 2, proc.stderr[-2000:]
  assert "seed 0 (exit 2, see" in proc.stderr and "the same command resumes" in proc.stderr
  assert os.path.getsize(tmp_path / "work" / "logs" / "seed_1.log") > 0


@pytest.mark.parametrize("value,word", [("r_syn=2", "--r_syn must be in (0, 1]"),
                                        ("seed=1", "--evolve may not set seed")])
def test_pareto_refuses_a_bad_evolve_value_before_any_seed_starts(tmp_path, value, word):
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, "benchmarks", "pareto.py"), f"--evolve={value}",
       f"--workdir={tmp_path / 'work'}"], capture_output=True, text=True, timeout=120)
  lines = proc.stderr.strip().splitlines()
  assert proc.returncode == 2 and len(lines) == 1 and word in lines[0], proc.stderr[-2000:]
  assert not (tmp_path / "work").exists()  # nothing recorded that a corrected rerun would meet


def test_pareto(tmp_path):
  """The default path at toy size (digits, 1 generation of 1 epoch): each seed's evolution and
  a baseline made in steps from the ancestor in a child process of its own (logs kept), then
  every file of both seeds timed side by side in the parent (the other baselines, tfmot's
  legacy-Keras process among them, are tested in test_peers.py). Then --measure_only reuses
  every piece, and the plots are redrawn from the JSON alone."""
  workdir, out = str(tmp_path / "work"), str(tmp_path / "results")
  args = [f"--workdir={workdir}", f"--results_dir={out}", "--dataset=digits", "--seeds=0,1",
          "--max_models=1", "--max_drop=1", "--bench_seconds=0.05", "--bench_rounds=1",
          "--evolve=generations=1,epochs=1,finetune_epochs=1,accuracy_floor=0,bench_seconds=0.05",
          "--methods=evolution,l1_iterative", "--executor=local"]
  run_script("pareto.py", *args, "--jobs=2", timeout=1200)
  figures, text = results(out, "pareto")
  assert figures["config"]["overrides"] == {"generations": 1, "epochs": 1,
                                            "finetune_epochs": 1, "accuracy_floor": 0.0,
                                            "bench_seconds": 0.05}
  points = {(p["method"], p["index"], p["seed"]): p for p in figures["points"]}
  assert set(points) == {(m, i, s) for s in (0, 1) for m, i in
                         (("evolution", 0), ("evolution", 1), ("l1_iterative", 1))}
  for seed in (0, 1):
    # the ancestor's epoch, then the offspring's (and any milder retry's); the baselines made
    # from the trained ancestor get what the evolution spent after it
    ancestor, gen1 = (points["evolution", g, seed]["budget_epochs"] for g in (0, 1))
    assert ancestor == 1 and gen1 >= 2
    l1 = points["l1_iterative", 1, seed]
    assert l1["budget_epochs"] == gen1 - ancestor and l1["size_bytes"] == l1["float_bytes"]
    # each child evolved its own seed and wrote its output to its log
    log = open(os.path.join(workdir, "logs", f"seed_{seed}.log"), encoding="utf-8").read()
    assert "generation 1/1" in log and f"seed_{seed}" in log
  assert len(figures["aggregates"]) == 3
  for e in figures["aggregates"]:
    assert e["n_seeds"] == 2 and 0 <= e["top1_test"]["mean"] <= 1
    assert e["latency_ms_p50_float_t1"]["mean"] > 0 and e["latency_ms_p50_float_tall"]["n"] == 2
  assert figures["aggregates"][0]["size_vs_ancestor"]["mean"] == 1.0
  assert 0 < figures["stage_seconds"]["seeds"] <= figures["wall_seconds"]
  assert set(figures["stage_seconds"]) == {"seeds", "latency"}  # the children trained
  assert "| method | point | n |" in text and "## How it was measured" in text
  pngs = [os.path.join(out, f"pareto_{kind}.png") for kind in ("size", "latency")]
  assert all(os.path.getsize(p) > 0 for p in pngs)

  made = {p: os.path.getmtime(p) for p in glob.glob(os.path.join(workdir, "seed_*", "*", "*"))}
  run_script("pareto.py", *args, "--measure_only", timeout=300)
  again, _ = results(out, "pareto")
  assert made == {p: os.path.getmtime(p) for p in made}  # nothing trained or written again
  assert [p["top1_test"] for p in again["points"]] == [p["top1_test"] for p in figures["points"]]
  for p in pngs:
    os.remove(p)
  sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
  import pareto
  pareto.replot(out, "pareto")
  assert all(os.path.isfile(p) for p in pngs)


def test_inert_taps_times_each_model_as_trained_and_folded(tmp_path):
  from squish_tf.net import arch, model
  path = str(tmp_path / "ancestor.keras")
  model.squeezenet(image_size=32, seed=0).save(path)
  out = str(tmp_path / "results")
  run_script("inert_taps.py", f"--models={path}", "--labels=ancestor", "--seconds=0.2",
             "--rounds=2", "--tag=toy", f"--results_dir={out}")
  figures, text = results(out, "inert_taps_toy")
  [row] = figures["models"]
  # The two files differ by the inert float32 weights, and compute the same outputs.
  dropped = 4 * arch.inert_params(arch.ancestor_spec(), 32)
  assert row["as_trained_bytes"] - row["folded_bytes"] >= 0.99 * dropped
  assert row["folded_max_abs_diff"] < 1e-4 and row["folded_p50_us"] > 0
  assert "| ancestor |" in text
