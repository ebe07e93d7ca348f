"""squish-bench: size, images/s and latency of .tflite files, side by side in one process."""

from absl import flags

from squish_tf.cli import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  flags.DEFINE_integer("image_size", 0, "Input side to benchmark at; 0 (the default): each "
                       "model's own, the size it ships at (224: the paper's).", lower_bound=0)
  flags.DEFINE_integer("threads", None, "Interpreter threads (default: all cores).", lower_bound=1)
  flags.DEFINE_float("seconds", 3.0, "Measuring time per file and batch size.", lower_bound=0.1)
  flags.DEFINE_integer("warmup", 2, "Warm-up invocations before timing.", lower_bound=0)
  flags.DEFINE_string("json", None, "Also write the results as JSON to this path.")


def main(argv):
  import json
  import os

  from squish_tf import files
  from squish_tf.bench import any_model, litert_bench
  from squish_tf.errors import UserError
  if 0 < FLAGS.image_size < 32:
    raise UserError(f"--image_size={FLAGS.image_size}: the networks need at least 32; pass 0 "
                    f"for each model's own size")
  if FLAGS.json and os.path.isdir(FLAGS.json):
    raise UserError(f"--json={FLAGS.json} is a directory; name the file to write")
  any_model.check_paths(argv[1:])
  if any(any_model.is_gpu_model(p) for p in argv[1:]):
    common.start_tensorflow()  # TensorRT and TF-TRT; .tflite files need only LiteRT
  results = any_model.benchmark(argv[1:], image_size=FLAGS.image_size or None,
                                threads=FLAGS.threads, seconds=FLAGS.seconds, warmup=FLAGS.warmup)
  print(litert_bench.format_table(results))
  if FLAGS.json:
    files.write_text(FLAGS.json, json.dumps(results, indent=2) + "\n")


def run_main():
  define_flags()
  common.run(main, takes_paths=True)


if __name__ == "__main__":
  run_main()
