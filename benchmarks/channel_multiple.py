"""Which channel multiple makes a squished network fastest per MAC on LiteRT/XNNPACK.

  python benchmarks/channel_multiple.py [--image_size=32] [--threads=1]

Builds SqueezeNet v1.1 at several uniform widths (every filter count times alpha), each once
with its widths left as they fall (odd counts like 21) and once rounded down to multiples of
2, 4, 8 and 16, converts each to a float32 .tflite (random weights: speed does not depend on
their values) and measures batch-1 latency side by side in one process. The figure of merit
is MACs per microsecond, at the release input size. Writes results/channel_multiple.{json,md}.
"""

from __future__ import annotations

import os
import tempfile

from absl import app, flags

import results  # benchmarks/results.py, beside this script

flags.DEFINE_integer("image_size", 32, "Input side (the release size).")
flags.DEFINE_integer("threads", 1, "Interpreter threads.")
flags.DEFINE_list("alphas", ["0.13", "0.21", "0.34"], "Uniform width factors (odd widths).")
flags.DEFINE_list("multiples", ["1", "2", "4", "8", "16"], "Channel multiples to compare.")
flags.DEFINE_float("seconds", 2.0, "Measuring seconds per file.")
flags.DEFINE_string("results_dir", results.RESULTS_DIR, "Where the results files go.")
FLAGS = flags.FLAGS


def scaled_spec(alpha: float, multiple: int) -> dict:
  """Every filter count times alpha, rounded down to `multiple` (at least `multiple`)."""
  from squish_tf.net import arch
  spec = {}
  for name, filters in arch.ancestor_spec(10).items():
    if name == arch.HEAD:
      spec[name] = filters
      continue
    width = max(1, int(filters * alpha))
    spec[name] = max(multiple, width // multiple * multiple)
  return spec


def main(argv):
  del argv
  from squish_tf import files
  from squish_tf.bench import litert_bench
  from squish_tf.export import litert
  from squish_tf.net import arch, model
  from squish_tf.report.table2 import markdown_table
  rows = []
  with tempfile.TemporaryDirectory() as tmp:
    for alpha in map(float, FLAGS.alphas):
      for multiple in map(int, FLAGS.multiples):
        spec = scaled_spec(alpha, multiple)
        path = os.path.join(tmp, f"a{alpha}_m{multiple}.tflite")
        files.write_bytes(path, litert.to_tflite(
            model.squeezenet(spec, image_size=FLAGS.image_size, seed=0)))
        rows.append({"alpha": alpha, "multiple": multiple, "path": path,
                     "params": arch.param_count(spec),
                     "macs": arch.macs(spec, FLAGS.image_size)})
    speed = litert_bench.benchmark([r["path"] for r in rows], image_size=FLAGS.image_size,
                                   threads=FLAGS.threads, batch_sizes=(1,),
                                   seconds=FLAGS.seconds, rounds=5)
  for r, s in zip(rows, speed):
    del r["path"]
    r["latency_ms_p50"] = s["latency_ms_p50"]
    r["macs_per_us"] = round(r["macs"] / (1000.0 * s["latency_ms_p50"]), 2)
  for alpha in map(float, FLAGS.alphas):  # relative to the same alpha left unrounded
    ref = next(r for r in rows if r["alpha"] == alpha and r["multiple"] == 1)
    for r in rows:
      if r["alpha"] == alpha:
        r["macs_per_us_vs_unrounded"] = round(r["macs_per_us"] / ref["macs_per_us"], 3)
  table = markdown_table(
      ["alpha", "multiple", "params", "MMACs", "p50 ms", "MACs/us", "vs unrounded"],
      [[f"{r['alpha']:g}", str(r["multiple"]), f"{r['params']:,}", f"{r['macs'] / 1e6:.2f}",
        f"{r['latency_ms_p50']:.3f}", f"{r['macs_per_us']:.1f}",
        f"{r['macs_per_us_vs_unrounded']:.2f}x"] for r in rows])
  command = (f"python benchmarks/channel_multiple.py --image_size={FLAGS.image_size} "
             f"--threads={FLAGS.threads}")
  result = {"command": command, "image_size": FLAGS.image_size, "threads": FLAGS.threads,
            "cpu_count": os.cpu_count(), "rows": rows}
  results.write("channel_multiple", result, results_dir=FLAGS.results_dir, markdown=(
      f"# Channel multiple: MACs per microsecond on LiteRT/XNNPACK\n\n`{command}`\n\n"
      f"Batch 1, {FLAGS.image_size}x{FLAGS.image_size}, {FLAGS.threads} thread(s), 5 "
      f"interleaved rounds in one process; random weights.\n\n{table}\n"))
  print(table)


if __name__ == "__main__":
  app.run(main)
