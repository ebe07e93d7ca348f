"""squish-bench: size, images/s and latency of .tflite files, side by side in one process."""

import json

from absl import flags

from squish_tf.cli import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  flags.DEFINE_integer("image_size", 224, "Input side to benchmark at (0: each model's own).",
                       lower_bound=0)
  flags.DEFINE_integer("threads", None, "Interpreter threads (default: all cores).", lower_bound=1)
  flags.DEFINE_float("seconds", 3.0, "Measuring time per file and batch size.", lower_bound=0.1)
  flags.DEFINE_integer("warmup", 2, "Warm-up invocations before timing.", lower_bound=0)
  flags.DEFINE_string("json", None, "Also write the results as JSON to this path.")


def main(argv):
  paths = argv[1:]
  if not paths:
    raise ValueError("no model given; usage: squish-bench A.tflite [B.tflite ...] (or TensorRT "
                     "engines / TF-TRT SavedModel directories on a GPU machine)")
  import os
  from squish_tf import bench, files
  gpu = [p for p in paths if p.endswith((".plan", ".engine")) or os.path.isdir(p)]
  if gpu and len(gpu) != len(paths):
    raise ValueError("benchmark .tflite files and GPU models (TensorRT engines, TF-TRT "
                     "SavedModels) in separate runs: they run on different devices")
  if gpu:
    from squish_tf import gpu_bench
    results = [gpu_bench.benchmark_engine(p, image_size=FLAGS.image_size or None,
                                          seconds=FLAGS.seconds, warmup=FLAGS.warmup)
               if not os.path.isdir(p) else
               gpu_bench.benchmark_tftrt(p, image_size=FLAGS.image_size or None,
                                         seconds=FLAGS.seconds, warmup=FLAGS.warmup)
               for p in paths]
  else:
    results = bench.benchmark(paths, image_size=FLAGS.image_size or None, threads=FLAGS.threads,
                              seconds=FLAGS.seconds, warmup=FLAGS.warmup)
  print(bench.format_table(results))
  if FLAGS.json:
    files.write_text(FLAGS.json, json.dumps(results, indent=2) + "\n")


def run_main():
  define_flags()
  common.run(main)
