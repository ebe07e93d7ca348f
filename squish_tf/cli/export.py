"""squish-export: one generation of a run as a SavedModel, ONNX, TF-TRT or TensorRT build.

  squish-export --workdir=runs/digits --model=SquishedNet-2 --format=tensorrt --out=jetson/sn2
Outputs are checked against the Keras model on validation images before they are kept.
"""

import glob
import os

from absl import flags

from squish_tf.cli import common
from squish_tf.config import INT8_GRANULARITIES
from squish_tf.errors import UserError

FLAGS = flags.FLAGS
FORMATS = ("saved_model", "onnx", "tftrt", "tensorrt", "tflite_int8", "tflite_qat")
ENGINE_NAME = "model.plan"
ONNX_NAME = "model.onnx"


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
  flags.DEFINE_string("out", None, "Output path (see --format).", required=True)
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


def check_request(fmt: str, precision: str, int8_granularity: str = "per_channel") -> None:
  """Refuses impossible requests before any work is done."""
  from squish_tf import tensorrt_export
  if int8_granularity != "per_channel" and fmt != "tflite_int8":
    raise UserError(f"--int8_granularity applies to --format=tflite_int8 only, not "
                    f"--format={fmt}; drop the flag or export tflite_int8")
  if fmt == "tftrt":
    tensorrt_export.require_tftrt()
  elif fmt == "tensorrt" and precision == "int8":
    raise UserError("--format=tensorrt builds fp32 or fp16 engines; for INT8 use --format=tftrt "
                    "--precision=int8 on NVIDIA's TensorFlow (it calibrates on the data set)")
  elif fmt not in ("tftrt", "tensorrt") and precision != "fp32":
    writes = "int8" if fmt.startswith("tflite") else "float32"
    raise UserError(f"--precision applies to tftrt and tensorrt; --format={fmt} always writes "
                    f"{writes}, so drop --precision (--format=tflite_int8 gives an int8 file)")


def generations(workdir: str) -> list[int]:
  found = glob.glob(os.path.join(workdir, "gen_[0-9][0-9][0-9]", "model.keras"))
  return sorted(int(os.path.basename(os.path.dirname(p))[4:]) for p in found)


def resolve_generation(workdir: str, generation: int | None, name: str | None) -> int:
  """The generation asked for by number or SquishedNet name, or the last one."""
  from squish_tf import files
  if generation is not None and name is not None:
    raise UserError("pass --generation or --model, not both")
  done = generations(workdir)
  if not done:
    raise UserError(f"{workdir} holds no finished generation (gen_NNN/model.keras); "
                    f"run squish-evolve first")
  if name is not None:
    path = os.path.join(workdir, "squishednets.json")
    if not os.path.isfile(path):
      raise UserError(f"--model={name}: {workdir} has no squishednets.json; run squish-report "
                      f"first, or pass --generation")
    named = {n["name"]: n["generation"] for n in files.read_json(path)}
    if name not in named:
      raise UserError(f"--model={name} is not in squishednets.json; choose one of "
                      f"{', '.join(named) or '(none named)'}")
    generation = named[name]
  if generation is None:
    return done[-1]
  if generation not in done:
    raise UserError(f"--generation={generation} is not a finished generation of {workdir}; "
                    f"choose one of {', '.join(map(str, done))}")
  return generation


def export(workdir: str, fmt: str, out: str, generation: int | None = None,
           model_name: str | None = None, precision: str = "fp32", batch_sizes=(1, 32),
           verify_images: int = 256, io_dtype: str = "int8", qat_epochs: int = 1,
           qat_learning_rate: float = 2e-4, int8_granularity: str = "per_channel") -> dict:
  """Exports one generation of a run; returns what was written and its figures."""
  from squish_tf import tensorrt_export
  check_request(fmt, precision, int8_granularity)
  batch_sizes = tensorrt_export.check_batch_sizes(batch_sizes)
  if fmt == "onnx" and not out.endswith(".onnx"):
    raise UserError(f"--out={out}: for --format=onnx, name the file, ending in .onnx")
  config_path = os.path.join(workdir, "config.json")
  if not os.path.isfile(config_path):
    raise UserError(f"{workdir} is not a squish-evolve run (no config.json); check --workdir")
  import keras
  from squish_tf import data, files
  cfg = files.read_json(config_path)
  gen = resolve_generation(workdir, generation, model_name)
  net = keras.saving.load_model(os.path.join(workdir, f"gen_{gen:03d}", "model.keras"),
                                compile=False)
  splits = data.load(cfg["dataset"], cfg["image_size"], cfg.get("data_dir"), cfg.get("seed", 0))
  images, labels = data.as_numpy(splits.validation, limit=verify_images)
  result = {"generation": gen, "format": fmt, "out": out, "precision": precision}
  if fmt == "saved_model":
    from squish_tf import saved_model_export
    result["parity"] = saved_model_export.export_verified(net, images, out)
  elif fmt == "onnx":
    from squish_tf import onnx_export
    result["parity"] = onnx_export.export_verified(net, images, out, labels, splits.class_names)
  elif fmt == "tftrt":
    _tftrt(net, images, out, precision, batch_sizes)
  elif fmt == "tflite_int8":
    from squish_tf import quantize
    representative = data.as_numpy(splits.train, limit=quantize.REPRESENTATIVE_IMAGES)[0]
    result["int8"] = quantize.export_int8(net, representative, images, labels, out, io_dtype,
                                          granularity=int8_granularity)
  elif fmt == "tflite_qat":
    import numpy as np
    from squish_tf import qat
    with np.load(os.path.join(workdir, f"gen_{gen:03d}", "masks.npz")) as saved:
      masks = {k: saved[k] for k in saved.files}
    result["qat"] = qat.run_qat(
        os.path.join(workdir, f"gen_{gen:03d}", "model.keras"), out, masks=masks,
        dataset={"name": cfg["dataset"], "seed": cfg.get("seed", 0),
                 "data_dir": cfg.get("data_dir")},
        epochs=qat_epochs, learning_rate=qat_learning_rate, io_dtype=io_dtype,
        seed=cfg.get("seed", 0))
  else:
    result.update(_tensorrt(net, images, labels, splits.class_names, out, precision, batch_sizes))
  return result


def _tftrt(net, images, out, precision, batch_sizes) -> None:
  import tempfile
  from squish_tf import saved_model_export, tensorrt_export
  with tempfile.TemporaryDirectory() as tmp:
    source = os.path.join(tmp, "saved_model")
    saved_model_export.export_verified(net, images, source)
    tensorrt_export.convert_tftrt(source, out, precision, int(net.input_shape[1]), batch_sizes,
                                  calibration_images=images)


def _tensorrt(net, images, labels, class_names, out, precision, batch_sizes) -> dict:
  """OUT/: the verified ONNX, build_on_jetson.sh, and the engine where it can be built."""
  from squish_tf import onnx_export, saved_model_export, tensorrt_export
  image_size = int(net.input_shape[1])
  result = {}
  with saved_model_export.atomic_dir(out) as tmp:
    onnx_path = os.path.join(tmp, ONNX_NAME)
    result["parity"] = onnx_export.export_verified(net, images, onnx_path, labels, class_names)
    tensorrt_export.write_build_script(onnx_path, ENGINE_NAME, image_size, batch_sizes, precision)
    result["engine_blocker"] = tensorrt_export.engine_build_blocker()
    if result["engine_blocker"] is None:
      result["engine"] = tensorrt_export.build_engine(
          onnx_path, os.path.join(tmp, ENGINE_NAME), image_size, batch_sizes, precision)
  return result


def main(argv):
  del argv
  import logging
  logging.getLogger("tf2onnx").setLevel(logging.WARNING)  # its INFO lines drown our figures
  try:
    batch_sizes = [int(b) for b in FLAGS.batch_sizes]
  except ValueError:
    raise ValueError(f"--batch_sizes must be integers like 1,32, got {FLAGS.batch_sizes}") from None
  r = export(FLAGS.workdir, FLAGS.format, FLAGS.out, FLAGS.generation, FLAGS.model,
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
      print(f"engine {os.path.join(FLAGS.out, ENGINE_NAME)} built for this GPU (TensorRT "
            f"{e['tensorrt_version']}, {e['precision']}){'; ' + e['note'] if e['note'] else ''}; "
            f"on a Jetson rebuild it there with {script}")
    else:
      print(f"engine not built here ({r['engine_blocker']}): build it on the Jetson with {script}")


def run_main():
  define_flags()
  common.run(main)
