"""A population of 4 per generation on this machine, `local` vs `ray`: wall time side by side.

  python benchmarks/population_executors.py --workdir=runs/population_executors

Trains one ancestor (reused if present), then runs the same evolution from it with
each executor and writes benchmarks/results/population_executors.{json,md}: wall
time of the whole run (Ray start and stop included), of the offspring phase
alone, and whether both executors selected the same masks and metrics.
`ray` runs with a local instance; `ray:N` asks N CPUs per offspring.
"""

import os
import shutil
import time

from absl import app, flags

import results  # benchmarks/results.py, beside this script

flags.DEFINE_string("workdir", "runs/population_executors", "Scratch directory.")
flags.DEFINE_list("variants", ["local", "ray"], "Executors to time: local, ray or ray:CPUS.")
flags.DEFINE_integer("image_size", 64, "Training input side.")
flags.DEFINE_integer("ancestor_epochs", 10, "Epochs for the shared ancestor.")
flags.DEFINE_integer("generations", 2, "Generations after the ancestor.")
flags.DEFINE_integer("population", 4, "Offspring per generation.")
flags.DEFINE_integer("finetune_epochs", 2, "Fine-tuning epochs per offspring.")
flags.DEFINE_float("accuracy_floor", 0.5, "Validation top-1 an offspring needs (0 for toy runs).")
flags.DEFINE_float("max_accuracy_drop", None, "Relative floor (default: squish-evolve's; 1 for "
                   "toy runs).")
flags.DEFINE_float("bench_seconds", 0.5, "Each generation's interpreter timing per batch size "
                   "and thread count (squish-evolve's --bench_seconds).")
flags.DEFINE_string("results_dir", results.RESULTS_DIR, "Where the results files go.")
FLAGS = flags.FLAGS
TIMING_KEYS = {"phase_seconds", "wall_seconds", "train_seconds", "images_per_sec_b1",
               "images_per_sec_b32", "latency_ms_p50", "latency_ms_p90", "bench_threads"}


def _timed(executor, calls):
  def run(fn, arg_lists):
    start = time.perf_counter()
    out = executor(fn, arg_lists)
    calls.append(time.perf_counter() - start)
    return out
  return run


def _same_run(a: str, b: str, generations: int) -> bool:
  import numpy as np
  from squish_tf import files
  from squish_tf.rundir import RunDir
  for g in range(1, generations + 1):
    ra, rb = (files.read_json(RunDir(w).gen_file(g, "metrics.json")) for w in (a, b))
    if {k: v for k, v in ra.items() if k not in TIMING_KEYS} != \
       {k: v for k, v in rb.items() if k not in TIMING_KEYS}:
      return False
    with np.load(RunDir(a).gen_file(g, "masks.npz")) as ma, \
         np.load(RunDir(b).gen_file(g, "masks.npz")) as mb:
      if any(not np.array_equal(ma[k], mb[k]) for k in ma.files):
        return False
  return True


def main(argv):
  del argv
  from squish_tf import config
  from squish_tf.train import job
  from squish_tf.evolve import executors, loop as evolve
  from squish_tf.report.table2 import markdown_table
  ancestor_dir = os.path.join(FLAGS.workdir, "ancestor")
  ancestor = os.path.join(ancestor_dir, "model.keras")
  if not os.path.exists(ancestor):
    shutil.rmtree(ancestor_dir, ignore_errors=True)
    job.train_and_evaluate(config.TrainConfig(image_size=FLAGS.image_size,
                                                epochs=FLAGS.ancestor_epochs), ancestor_dir)
  cfg = config.EvolveConfig(image_size=FLAGS.image_size, generations=FLAGS.generations,
                            population=FLAGS.population, finetune_epochs=FLAGS.finetune_epochs,
                            accuracy_floor=FLAGS.accuracy_floor,
                            bench_seconds=FLAGS.bench_seconds,
                            **({} if FLAGS.max_accuracy_drop is None
                               else {"max_accuracy_drop": FLAGS.max_accuracy_drop}),
                            ancestor=ancestor)
  rows = []
  for variant in FLAGS.variants:
    name, _, cpus = variant.partition(":")
    workdir = os.path.join(FLAGS.workdir, variant.replace(":", "_cpus"))
    shutil.rmtree(workdir, ignore_errors=True)
    calls, load_before = [], os.getloadavg()[0]
    start = time.perf_counter()
    with executors.make_executor(name, cpus_per_task=float(cpus or 1)) as executor:
      started = time.perf_counter()
      records = evolve.run(cfg, workdir, executor=_timed(executor, calls))
    end = time.perf_counter()
    rows.append({
        "variant": variant, "workdir": workdir,
        "wall_seconds": round(end - start, 1),
        "executor_start_seconds": round(started - start, 1),
        "offspring_wall_seconds": round(sum(calls), 1),
        "offspring_task_train_seconds": round(sum(r["train_seconds"] for r in records[1:]), 1),
        "driver_seconds": round(end - start - sum(calls), 1),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "selected": [r["offspring"] for r in records[1:]],
        "params_total": records[-1]["params_total"],
        "top1_tflite": records[-1]["top1_tflite"],
    })
  for row in rows[1:]:
    row["same_masks_and_metrics_as_" + rows[0]["variant"]] = _same_run(
        rows[0]["workdir"], row["workdir"], FLAGS.generations)
  result = {
      "command": "python benchmarks/population_executors.py " + " ".join(
          f"--{k}={FLAGS[k].value}" for k in ("workdir", "image_size", "ancestor_epochs",
                                              "generations", "population", "finetune_epochs",
                                              "bench_seconds")) +
          " --variants=" + ",".join(FLAGS.variants),
      "cpu_count": os.cpu_count(),
      "runs": rows,
  }
  header = ["executor", "run wall (s)", "executor start (s)", "offspring phase wall (s)",
            "offspring train, summed over tasks (s)", "driver: gen 0, selection, convert, "
            "benchmark (s)", "load avg before/after", "same result as first"]
  table = markdown_table(header, [
      [str(x) for x in [r["variant"], r["wall_seconds"], r["executor_start_seconds"],
       r["offspring_wall_seconds"], r["offspring_task_train_seconds"], r["driver_seconds"],
       f"{r['load_average_before']} / {r['load_average_after']}",
       next((("yes" if v else "NO") for k, v in r.items() if k.startswith("same_")), "-")]]
      for r in rows])
  results.write("population_executors", result, results_dir=FLAGS.results_dir,
                markdown=f"# Population of {FLAGS.population}: local vs Ray executors\n\n"
                         f"`{result['command']}`\n\n{os.cpu_count()} CPU cores.\n\n{table}\n")
  print(table)


if __name__ == "__main__":
  app.run(main)
