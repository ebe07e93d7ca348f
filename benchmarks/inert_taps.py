"""What the inert taps cost a .tflite: each model as trained, and folded, side by side.

  python benchmarks/inert_taps.py --models=A.keras,B.keras [--labels=a,b] [--threads=1]

At inputs below 47 pixels, fire6-9 run at 1x1 and their 3x3 expand layers only ever use
the centre tap (`squish_tf.net.arch.inert_taps`). For each trained model this converts the
network as it is and folded (`squish_tf.net.model.folded`), checks that the folded file
gives the unfolded Keras model's outputs on random images, and times both files side by
side at batch 1 at the model's own input size. Writes results/inert_taps[_TAG].{json,md}.
"""

from __future__ import annotations

import os
import tempfile

from absl import flags

import results  # benchmarks/results.py, beside this script

flags.DEFINE_list("models", None, "Trained .keras files with a fixed input size.",
                  required=True)
flags.DEFINE_list("labels", None, "A name per model (default: the parent directory's).")
flags.DEFINE_integer("threads", 1, "Interpreter threads.", lower_bound=1)
flags.DEFINE_float("seconds", 1.0, "Measuring seconds per file.")
flags.DEFINE_integer("rounds", 5, "Interleaved rounds the seconds are split over.")
flags.DEFINE_integer("images", 64, "Random images the folded file is checked on.")
flags.DEFINE_string("tag", "", "Suffix of the results files' names.")
flags.DEFINE_string("results_dir", results.RESULTS_DIR, "Where the results files go.")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  from squish_tf.cli import common
  common.start_tensorflow()
  import keras
  import numpy as np

  from squish_tf import files
  from squish_tf.bench import litert_bench
  from squish_tf.errors import UserError
  from squish_tf.export import litert, runtime
  from squish_tf.net import arch, model
  from squish_tf.report.table2 import markdown_table
  labels = FLAGS.labels or [os.path.basename(os.path.dirname(os.path.abspath(p)))
                            for p in FLAGS.models]
  if len(labels) != len(FLAGS.models) or len(set(labels)) != len(labels):
    raise UserError(f"--labels needs one distinct name per model ({len(FLAGS.models)}), got "
                    f"{labels}")
  rows, paths = [], []
  with tempfile.TemporaryDirectory() as tmp:
    for label, path in zip(labels, FLAGS.models):
      if not os.path.isfile(path):
        raise UserError(f"--models: {path} does not exist; pass trained .keras files")
      net = keras.saving.load_model(path, compile=False)
      size = model.options_of(net)["image_size"]
      if size is None:
        raise UserError(f"{path} takes any input size; inert taps exist at one size only, "
                        f"so rebuild it at its release size first")
      spec = model.spec_of(net)
      images = np.random.default_rng(0).random((FLAGS.images, size, size, 3), "float32")
      expected = net.predict(images, verbose=0)
      row = {"model": label, "path": path, "image_size": size,
             "params": arch.param_count(spec), "inert_params": arch.inert_params(spec, size),
             "macs": arch.macs(spec, size)}
      for kind, variant in (("as_trained", net), ("folded", model.folded(net))):
        tflite = os.path.join(tmp, f"{label}_{kind}.tflite")
        files.write_bytes(tflite, litert.to_tflite(variant, fold=False))
        got = runtime.predict(runtime.interpreter(model_path=tflite), images)
        row[f"{kind}_max_abs_diff"] = float(np.abs(got - expected).max())
        paths.append((row, kind, tflite))
      rows.append(row)
    speed = litert_bench.benchmark([p for _, _, p in paths], image_size=None,
                                   threads=FLAGS.threads, batch_sizes=(1,),
                                   seconds=FLAGS.seconds, rounds=FLAGS.rounds)
  for (row, kind, _), s in zip(paths, speed):
    row[f"{kind}_bytes"] = s["bytes"]
    row[f"{kind}_p50_us"] = round(1000.0 * s["latency_ms_p50"], 2)
  for row in rows:
    row["folded_size_ratio"] = round(row["folded_bytes"] / row["as_trained_bytes"], 4)
    row["folded_time_ratio"] = round(row["folded_p50_us"] / row["as_trained_p50_us"], 4)
  table = markdown_table(
      ["model", "params (inert)", "file as trained", "folded", "size ratio",
       "p50 us as trained", "folded", "time ratio", "folded max |diff|"],
      [[r["model"], f"{r['params']:,} ({r['inert_params']:,})",
        f"{r['as_trained_bytes'] / 1024:.1f} KB", f"{r['folded_bytes'] / 1024:.1f} KB",
        f"{r['folded_size_ratio']:.3f}", f"{r['as_trained_p50_us']:.2f}",
        f"{r['folded_p50_us']:.2f}", f"{r['folded_time_ratio']:.3f}",
        f"{r['folded_max_abs_diff']:.1e}"] for r in rows])
  name = "inert_taps" + (f"_{FLAGS.tag}" if FLAGS.tag else "")
  command = (f"python benchmarks/inert_taps.py --models={','.join(FLAGS.models)} "
             f"--labels={','.join(labels)} --threads={FLAGS.threads} "
             f"--seconds={FLAGS.seconds:g} --rounds={FLAGS.rounds}"
             + (f" --tag={FLAGS.tag}" if FLAGS.tag else ""))
  result = {"command": command, "threads": FLAGS.threads, "cpu_count": os.cpu_count(),
            "models": rows}
  results.write(name, result, results_dir=FLAGS.results_dir, markdown=(
      f"# What the inert taps cost: each model as trained and folded\n\n`{command}`\n\n"
      f"Batch 1 at each model's own input size, {FLAGS.threads} thread(s), p50 of "
      f"{FLAGS.rounds} interleaved rounds in one process. Max |diff|: the folded .tflite "
      f"against the Keras model as trained, softmax outputs on {FLAGS.images} random "
      f"images.\n\n{table}\n"))
  print(table)


if __name__ == "__main__":
  from squish_tf.cli import common
  common.run(main)  # quiet library logs; a UserError prints one line and exits 2
