"""Every script in benchmarks/ runs end to end at toy size and writes its results files.

The figures mean nothing at this size; what is checked is that each script still works
against the package and writes what its README promises.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOY_EVOLUTION = ["--generations=1", "--image_size=32", "--epochs=1", "--finetune_epochs=1",
                 "--bench_image_size=32", "--accuracy_floor=0"]


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
             "--finetune_epochs=1", "--variants=local", "--accuracy_floor=0")
  figures, text = results(out, "population_executors")
  [row] = figures["runs"]
  assert row["variant"] == "local" and row["selected"] in ([0], [1])
  assert "local" in text
