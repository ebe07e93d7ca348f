"""squish-export: one generation of a run as a SavedModel, ONNX, TF-TRT or TensorRT build,
or an int8 / quantization-aware-trained .tflite (`squish_tf.export.generation`).

  squish-export --workdir=runs/digits --model=SquishedNet-2 --format=tensorrt --out=jetson/sn2
Outputs are checked against the Keras model on validation images before they are kept.
"""

import os

from absl import flags

from squish_tf.cli import common
from squish_tf.config import EXPORT_FORMATS as FORMATS
from squish_tf.config import INT8_GRANULARITIES, check_export_format
from squish_tf.errors import UserError

FLAGS = flags.FLAGS


def define_flags() -> None:
  flags.DEFINE_string("workdir", None, "Run directory written by squish-evolve.", required=True)
  flags.DEFINE_integer("generation", None, "Generation to export (default: the last one).",
                       lower_bound=0)
  flags.DEFINE_string("model", None, "A name from squish-report, e.g. SquishedNet-2 "
                      "(instead of --generation).")
  flags.DEFINE_enum("format", None, FORMATS, "saved_model: serving SavedModel (directory); "
                    "onnx: OUT.onnx; tftrt: TF-TRT SavedModel (NVIDIA's TensorFlow only); "
                    "tensorrt: directory with model.onnx, build_on_jetson.sh and, where "
                    "TensorRT and a GPU exist, model.plan.", required=True)
  flags.DEFINE_string("out", None, "Output path (see --format). A directory output replaces "
                      "an earlier export of the same format only; the run's gen_*/ are never "
                      "written.", required=True)
  flags.DEFINE_enum("precision", "fp32", ("fp32", "fp16", "int8"),
                    "tftrt: fp32, fp16 or int8 (calibrated on validation images); "
                    "tensorrt: fp32 or fp16.")
  flags.DEFINE_list("batch_sizes", ["1", "32"], "Batch sizes to pre-build engines for "
                    "(tftrt), or whose min..max the engine profile covers (tensorrt).")
  flags.DEFINE_enum("io_dtype", "int8", ("int8", "uint8"),
                    "Input/output type of tflite_int8 and tflite_qat files.")
  flags.DEFINE_enum("int8_granularity", "per_channel", INT8_GRANULARITIES,
                    "tflite_int8: weight scales per output channel, or one per tensor "
                    "(smaller file).")
  flags.DEFINE_integer("qat_epochs", 1, "Quantization-aware fine-tuning epochs (tflite_qat).",
                       lower_bound=1)
  flags.DEFINE_float("qat_learning_rate", 2e-4, "QAT learning rate (tflite_qat).", lower_bound=0)
  flags.DEFINE_integer("verify_images", 256, "Validation images for the parity check and INT8 "
                       "calibration.", lower_bound=1)


def main(argv):
  del argv
  import logging
  logging.getLogger("tf2onnx").setLevel(logging.WARNING)  # its INFO lines drown our figures
  try:
    batch_sizes = [int(b) for b in FLAGS.batch_sizes]
  except ValueError:
    raise UserError(f"--batch_sizes must be integers like 1,32, got {FLAGS.batch_sizes}"
                    ) from None
  check_export_format(FLAGS.format)
  from squish_tf.rundir import RunDir
  RunDir(FLAGS.workdir).require_run()
  common.start_tensorflow()
  from squish_tf.export import generation
  r = generation.export(FLAGS.workdir, FLAGS.format, FLAGS.out, FLAGS.generation, FLAGS.model,
             FLAGS.precision, batch_sizes, FLAGS.verify_images, FLAGS.io_dtype, FLAGS.qat_epochs,
             FLAGS.qat_learning_rate, FLAGS.int8_granularity)
  if "int8" in r:
    q = r["int8"]
    print(f"generation {r['generation']} -> {FLAGS.out}: int8 ({FLAGS.io_dtype} I/O, "
          f"{FLAGS.int8_granularity.replace('_', '-')}), "
          f"{q['bytes'] / 1e3:.1f} KB, validation top-1 {q['top1_int8']:.4f} (float "
          f"{q['top1_float']:.4f}), agreement with float {q['agreement']:.1%}")
  elif "qat" in r:
    q = r["qat"]
    print(f"generation {r['generation']} -> {FLAGS.out}: QAT int8, {q['bytes'] / 1e3:.1f} KB, "
          f"validation top-1 {q['top1_qat_int8']:.4f} (post-training int8 "
          f"{q['top1_ptq_int8']:.4f}, float before QAT {q['top1_float_start']:.4f})")
  elif "parity" in r:
    p = r["parity"]
    print(f"generation {r['generation']} -> {FLAGS.out}: max |diff| vs Keras "
          f"{p['max_abs_diff']:.2e}, top-1 agreement {p['argmax_agreement']:.1%} "
          f"over {p['images']} validation images")
  else:
    print(f"generation {r['generation']} -> {FLAGS.out} (TF-TRT {FLAGS.precision}, engines for "
          f"batch {','.join(map(str, batch_sizes))})")
  if FLAGS.format == "tensorrt":
    script = os.path.join(FLAGS.out, "build_on_jetson.sh")
    if r.get("engine"):
      e = r["engine"]
      engine = os.path.join(FLAGS.out, generation.ENGINE_NAME)
      print(f"engine {engine} built for this GPU (TensorRT "
            f"{e['tensorrt_version']}, {e['precision']}){'; ' + e['note'] if e['note'] else ''}; "
            f"on a Jetson rebuild it there with {script}")
    else:
      print(f"engine not built here ({r['engine_blocker']}): build it on the Jetson with {script}")


def run_main():
  define_flags()
  common.run(main)


if __name__ == "__main__":
  run_main()
