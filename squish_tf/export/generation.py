"""One generation of a run, exported: SavedModel, ONNX, TF-TRT, TensorRT build, int8 or QAT .tflite.

What `squish-export` does, callable from Python:

  export("runs/digits", "tensorrt", "jetson/sn2", model_name="SquishedNet-2", precision="fp16")

Every output is checked against the Keras model on validation images before it is kept.
"""

from __future__ import annotations

import os
import tempfile

import keras
import numpy as np

from squish_tf import data, files
from squish_tf.data import preprocess
from squish_tf.errors import UserError
from squish_tf.export import int8, qat, saved_model, tensorrt_build
from squish_tf.rundir import RunDir

ENGINE_NAME = "model.plan"
ONNX_NAME = "model.onnx"
# Formats that write a directory, replaced whole: the file an earlier export of the same
# format left there (any other non-empty directory is refused, not deleted).
DIR_FORMATS = {"saved_model": saved_model.SAVED_MODEL_FILE,
               "tftrt": saved_model.SAVED_MODEL_FILE, "tensorrt": tensorrt_build.SCRIPT_NAME}


def check_request(fmt: str, precision: str, int8_granularity: str = "per_channel") -> None:
  """Refuses impossible requests before any work is done."""
  if int8_granularity != "per_channel" and fmt != "tflite_int8":
    raise UserError(f"--int8_granularity applies to --format=tflite_int8 only, not "
                    f"--format={fmt}; drop the flag or export tflite_int8")
  if fmt == "tftrt":
    tensorrt_build.require_tftrt()
  elif fmt == "tensorrt" and precision == "int8":
    raise UserError("--format=tensorrt builds fp32 or fp16 engines; for INT8 use --format=tftrt "
                    "--precision=int8 on NVIDIA's TensorFlow (it calibrates on the data set)")
  elif fmt not in ("tftrt", "tensorrt") and precision != "fp32":
    writes = "int8" if fmt.startswith("tflite") else "float32"
    raise UserError(f"--precision applies to tftrt and tensorrt; --format={fmt} always writes "
                    f"{writes}, so drop --precision (--format=tflite_int8 gives an int8 file)")


def check_out(fmt: str, out: str, run: RunDir) -> None:
  """Refuses an --out that would fail after the work (empty, under a file) or overwrite what
  it must not: the run's own generations, or a directory of something else."""
  if not out:
    raise UserError(f"--out is empty; name the {'directory' if fmt in DIR_FORMATS else 'file'} "
                    f"to write")
  inside = run.generation_holding(out)
  if inside:
    raise UserError(f"--out={out} is inside the run's {inside}/, whose files are its record; "
                    f"write the export elsewhere")
  above = os.path.dirname(os.path.abspath(out))
  while not os.path.lexists(above):
    above = os.path.dirname(above)
  if not os.path.isdir(above):
    raise UserError(f"--out={out}: {above} is a file, not a directory; choose another --out")
  if fmt in DIR_FORMATS:
    files.check_replaceable(out, DIR_FORMATS[fmt], "--out")
  elif os.path.isdir(out):
    raise UserError(f"--out={out} is a directory; --format={fmt} writes one file, so name it")


def resolve_generation(run: RunDir, generation: int | None, name: str | None) -> int:
  """The generation asked for by number or SquishedNet name, or the last one."""
  if generation is not None and name is not None:
    raise UserError("pass --generation or --model, not both")
  workdir = run.path
  done = run.finished_generations(holding="model.keras")
  if not done:
    raise UserError(f"{workdir} holds no finished generation (gen_NNN/model.keras); "
                    f"run squish-evolve first")
  if name is not None:
    path = os.path.join(workdir, "squishednets.json")
    if not os.path.isfile(path):
      raise UserError(f"--model={name}: {workdir} has no squishednets.json; run squish-report "
                      f"--workdir={workdir} first (with --out=DIR the names are in "
                      f"DIR/squishednets.json: pass that model's --generation instead)")
    named = {n["name"]: n["generation"] for n in run.read_json(path)}
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
  check_request(fmt, precision, int8_granularity)
  batch_sizes = tensorrt_build.check_batch_sizes(batch_sizes)
  if fmt == "onnx" and not out.endswith(".onnx"):
    raise UserError(f"--out={out}: for --format=onnx, name the file, ending in .onnx")
  run = RunDir(workdir)
  cfg = run.read_config()
  if cfg is None:
    raise UserError(f"{workdir} is not a squish-evolve run (no config.json); check --workdir")
  check_out(fmt, out, run)
  gen = resolve_generation(run, generation, model_name)
  run.check_model(gen)  # a damaged file is named with its fix, not a Keras traceback
  net = keras.saving.load_model(run.gen_file(gen, "model.keras"), compile=False)
  splits = data.load(cfg["dataset"], cfg["image_size"], cfg.get("data_dir"), cfg.get("seed", 0))
  images, labels = data.as_numpy(splits.validation, limit=verify_images)
  result = {"generation": gen, "format": fmt, "out": out, "precision": precision}
  # what an app needs besides an int8 file, as the release and the ONNX export give it
  about = {"preprocess": preprocess.contract(cfg["image_size"]),
           "class_names": list(splits.class_names)}
  if fmt == "saved_model":
    result["parity"] = saved_model.export_verified(net, images, out)
  elif fmt == "onnx":
    from squish_tf.export import onnx_export
    result["parity"] = onnx_export.export_verified(net, images, out, labels, splits.class_names)
  elif fmt == "tftrt":
    _tftrt(net, images, out, precision, batch_sizes)
  elif fmt == "tflite_int8":
    representative = data.as_numpy(splits.train, limit=int8.REPRESENTATIVE_IMAGES)[0]
    result["int8"] = int8.export_int8(net, representative, images, labels, out, io_dtype,
                                      granularity=int8_granularity, about=about)
  elif fmt == "tflite_qat":
    with np.load(run.gen_file(gen, "masks.npz")) as saved:
      masks = {k: saved[k] for k in saved.files}
    result["qat"] = qat.run_qat(
        run.gen_file(gen, "model.keras"), out, masks=masks,
        dataset={"name": cfg["dataset"], "seed": cfg.get("seed", 0),
                 "data_dir": cfg.get("data_dir"), "val_limit": verify_images},
        epochs=qat_epochs, learning_rate=qat_learning_rate, io_dtype=io_dtype,
        seed=cfg.get("seed", 0), about=about)
  else:
    result.update(_tensorrt(net, images, labels, splits.class_names, out, precision, batch_sizes))
  return result


def _tftrt(net, images, out, precision, batch_sizes) -> None:
  with tempfile.TemporaryDirectory() as tmp:
    source = os.path.join(tmp, "saved_model")
    saved_model.export_verified(net, images, source)
    tensorrt_build.convert_tftrt(source, out, precision, int(net.input_shape[1]), batch_sizes,
                                  calibration_images=images)


def _tensorrt(net, images, labels, class_names, out, precision, batch_sizes) -> dict:
  """OUT/: the verified ONNX, build_on_jetson.sh, and the engine where it can be built."""
  from squish_tf.export import onnx_export
  image_size = int(net.input_shape[1])
  result = {}
  with files.atomic_dir(out, DIR_FORMATS["tensorrt"], "--out") as tmp:
    onnx_path = os.path.join(tmp, ONNX_NAME)
    result["parity"] = onnx_export.export_verified(net, images, onnx_path, labels, class_names)
    tensorrt_build.write_build_script(onnx_path, ENGINE_NAME, image_size, batch_sizes, precision)
    result["engine_blocker"] = tensorrt_build.engine_build_blocker()
    if result["engine_blocker"] is None:
      result["engine"] = tensorrt_build.build_engine(
          onnx_path, os.path.join(tmp, ENGINE_NAME), image_size, batch_sizes, precision)
  return result
