"""The default evolution's goals (size, accuracy, speed, run time), measured on one run.

  python benchmarks/evolution_goals.py --workdir=runs/goals

Runs the default `squish-evolve` (timing its wall clock) unless --workdir already holds
a finished run, reports it, re-benchmarks the ancestor and the smallest SquishedNet side
by side at 224x224 (same process, same threads, interleaved rounds), and writes
benchmarks/results/evolution_goals.{json,md}.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

import results  # benchmarks/results.py, beside this script

flags.DEFINE_string("workdir", "runs/goals", "Run directory (reused if finished).")
flags.DEFINE_float("seconds", 6.0, "Benchmark seconds per file and batch size.")
flags.DEFINE_list("evolve_flags", [], "Extra squish-evolve flags (a toy run for tests: "
                  "--generations=1,--image_size=32,...); the goals are the default run's.")
flags.DEFINE_string("results_dir", results.RESULTS_DIR, "Where the results files go.")
FLAGS = flags.FLAGS


def _as_trained(run, records, directory: str) -> list[str]:
  """Each generation's network as trained, for timing at 224: a run at 32x32 writes files
  folded for 32 (squish_tf.net.model.release_form), which would compute another network
  at 224."""
  import keras

  from squish_tf import files
  from squish_tf.export import litert
  paths = []
  for r in records:
    net = keras.saving.load_model(run.gen_file(r["generation"], "model.keras"), compile=False)
    path = os.path.join(directory, f"gen_{r['generation']:03d}.tflite")
    files.write_bytes(path, litert.to_tflite(net, fold=False))
    paths.append(path)
  return paths


def main(argv):
  del argv
  from squish_tf import config
  from squish_tf.bench import litert_bench
  from squish_tf.report import run_report, table2
  from squish_tf.rundir import RunDir
  workdir = FLAGS.workdir
  overrides = dict(f.lstrip("-").split("=", 1) for f in FLAGS.evolve_flags)
  cfg = config.EvolveConfig(generations=int(overrides.get("generations",
                                                          config.EvolveConfig().generations)))
  wall = None
  run = RunDir(workdir)
  if len(run.finished_generations()) < cfg.generations + 1:
    start = time.perf_counter()
    resume = ["--resume"] if os.path.exists(os.path.join(workdir, "config.json")) else []
    # This interpreter's squish_tf, whether or not its venv's bin is on PATH.
    code = subprocess.run([sys.executable, "-m", "squish_tf.cli.evolve", f"--workdir={workdir}",
                           *resume, *FLAGS.evolve_flags]).returncode
    if code:
      raise SystemExit(f"error: squish-evolve exited with {code} (its message is above); "
                       f"after the fix, the same command goes on with the run in {workdir}")
    wall = time.perf_counter() - start
  out = run_report.write_report(workdir)
  records = {r["generation"]: r for r in run.records()}
  ancestor = records[0]
  candidates = [records[n["generation"]] for n in out["named"]] or list(records.values())[1:]
  smallest = min(candidates, key=lambda r: r["tflite_bytes"])
  reference = table2.reference_squeezenet(workdir)
  with tempfile.TemporaryDirectory() as tmp:
    speed = litert_bench.benchmark(_as_trained(run, (ancestor, smallest), tmp), image_size=224,
                                   seconds=FLAGS.seconds, rounds=4)
  split = out["time_split"]
  result = {
      "command": "python benchmarks/evolution_goals.py --workdir=" + workdir,
      "run_wall_seconds": round(wall, 1) if wall is not None else None,
      "sum_of_generation_seconds": split["wall_seconds"],
      "time_split_seconds": split["seconds"],
      "overhead_fraction": split["overhead_fraction"],
      "ancestor": {k: ancestor[k] for k in ("tflite_bytes", "top1_tflite", "params_total")},
      "smallest": {"generation": smallest["generation"],
                   **{k: smallest[k] for k in ("tflite_bytes", "top1_tflite", "params_total")}},
      "reference_1000_class_bytes": reference["tflite_bytes"],
      "side_by_side_224": speed,
  }
  sm, an = smallest, ancestor
  ratio_b32 = speed[1]["images_per_sec_b32"] / speed[0]["images_per_sec_b32"]
  goals = [
      ("smallest float32 .tflite <= 0.49 MB", f"{sm['tflite_bytes'] / 1e6:.3f} MB",
       sm["tflite_bytes"] <= 0.49e6),
      ("10x smaller than 1000-class SqueezeNet v1.1 .tflite",
       f"{reference['tflite_bytes'] / sm['tflite_bytes']:.2f}x",
       reference["tflite_bytes"] / sm["tflite_bytes"] >= 10),
      ("test top-1 at most 2 points below the ancestor",
       f"{100 * (sm['top1_tflite'] - an['top1_tflite']):+.1f} points "
       f"(smallest {100 * sm['top1_tflite']:.1f}% vs ancestor {100 * an['top1_tflite']:.1f}%)",
       an["top1_tflite"] - sm["top1_tflite"] <= 0.02 + 1e-9),
      ("interpreter b32 at 224x224 >= 3x the ancestor", f"{ratio_b32:.2f}x "
       f"({speed[1]['images_per_sec_b32']:.0f} vs {speed[0]['images_per_sec_b32']:.0f} img/s, "
       f"{speed[0]['threads']} threads)", ratio_b32 >= 3),
      ("whole default run <= 15 minutes",
       f"{wall / 60:.1f} min" if wall else "not timed (run reused)",
       wall is not None and wall <= 900),
      ("sampling+surgery+conversion+benchmark <= 15% of the run",
       f"{100 * split['overhead_fraction']:.1f}%", split["overhead_fraction"] <= 0.15),
  ]
  result["goals"] = [{"goal": g, "measured": m, "met": bool(ok)} for g, m, ok in goals]
  table = table2.markdown_table(["goal", "measured", "met"],
                                [[g, m, "yes" if ok else "NO"] for g, m, ok in goals])
  results.write("evolution_goals", result, results_dir=FLAGS.results_dir,
                markdown=f"# Evolution goals of the default run\n\n`{result['command']}`\n\n"
                         f"{table}\n\nTime split (s): {json.dumps(split['seconds'])}\n")
  print(table)


if __name__ == "__main__":
  app.run(main)
