"""TensorRT for Jetsons: TF-TRT SavedModels, and engines built from the verified ONNX.

Two routes, because stock TensorFlow dropped TensorRT after 2.17:
- TF-TRT (`TrtGraphConverterV2`) needs NVIDIA's TensorFlow (JetPack wheels, NGC
  containers). `require_tftrt` stops before any work elsewhere.
- ONNX -> engine works with any current TensorRT. Engines are tied to one GPU and one
  TensorRT version, so `build_on_jetson.sh` (trtexec) is always written beside the
  ONNX; `build_engine` builds one here too when TensorRT and a GPU exist.
TensorRT 10 (JetPack 6 ships 10.3) still has weak typing (`BuilderFlag.FP16`,
`trtexec --fp16`); TensorRT 11 removed it: a network runs in the types its ONNX has.
"""

from __future__ import annotations

import importlib.util
import os
import shlex

import numpy as np

from squish_tf import files
from squish_tf.errors import UserError
from squish_tf.export import cuda
from squish_tf.export import saved_model as sm
from squish_tf.export.saved_model import INPUT_NAME

PRECISIONS = ("fp32", "fp16", "int8")
ENGINE_PRECISIONS = ("fp32", "fp16")  # INT8 engines: see `build_engine`
SCRIPT_NAME = "build_on_jetson.sh"
WORKSPACE_BYTES = 1 << 30  # 1 GiB: fits the smallest Jetsons (Nano: 4 GB shared)


def check_batch_sizes(batch_sizes) -> list[int]:
  sizes = sorted({int(b) for b in batch_sizes})
  if not sizes or sizes[0] < 1:
    raise UserError(f"--batch_sizes must be positive integers like 1,32, got "
                    f"{list(batch_sizes)}")
  return sizes


# --- TF-TRT -------------------------------------------------------------------------------

def tftrt_available() -> bool:
  import tensorflow as tf
  return bool(tf.sysconfig.get_build_info().get("is_tensorrt_build", False))


def require_tftrt() -> None:
  """Raises the one-line UserError for TensorFlow builds without TensorRT (stock TF >= 2.18)."""
  if not tftrt_available():
    import tensorflow as tf
    raise UserError(
        f"TF-TRT needs TensorFlow built with TensorRT, and this TensorFlow {tf.__version__} is "
        f"not (stock TensorFlow dropped TensorRT after 2.17); use NVIDIA's TensorFlow for Jetson "
        f"(JetPack wheel) or NGC container, or --format=tensorrt (ONNX -> TensorRT engine)")


def _calibration_input_fn(images: np.ndarray | None, batch: int):
  """INT8 calibration input: whole batches of `batch` images (the converter wants one shape)."""
  import tensorflow as tf
  if images is None or len(images) < batch:
    raise ValueError(f"INT8 calibration needs at least {batch} images")
  n = len(images) // batch * batch
  batches = images[:n].astype(np.float32).reshape(-1, batch, *images.shape[1:])

  def input_fn():
    for b in batches:
      yield (tf.constant(b),)
  return input_fn


def convert_tftrt(saved_model_dir: str, out_dir: str, precision: str, image_size: int,
                  batch_sizes=(1, 32), calibration_images: np.ndarray | None = None) -> None:
  """TF-TRT conversion of a serving SavedModel, engines pre-built for `batch_sizes`.

  INT8 calibrates on `calibration_images` (batches of the largest batch size: the
  converter wants one shape). Writes `out_dir` atomically.
  """
  require_tftrt()
  if precision not in PRECISIONS:
    raise UserError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
  sizes = check_batch_sizes(batch_sizes)
  import tensorflow as tf
  if not tf.config.list_physical_devices("GPU"):
    raise UserError("TensorFlow sees no GPU; TF-TRT builds engines on the GPU that runs them "
                    "(run this on the Jetson)")
  from tensorflow.python.compiler.tensorrt import trt_convert as trt
  calibration_fn = (_calibration_input_fn(calibration_images, sizes[-1])
                    if precision == "int8" else None)
  converter = trt.TrtGraphConverterV2(
      input_saved_model_dir=saved_model_dir, input_saved_model_signature_key=sm.SIGNATURE,
      # One optimization profile per batch size given: each is then exact, not a range.
      use_dynamic_shape=True, dynamic_shape_profile_strategy="Optimal",
      precision_mode=precision.upper(), max_workspace_size_bytes=WORKSPACE_BYTES,
      maximum_cached_engines=len(sizes), use_calibration=precision == "int8")
  converter.convert(calibration_input_fn=calibration_fn)

  def build_fn():
    for b in sizes:
      yield (tf.zeros((b, image_size, image_size, 3), tf.float32),)

  converter.build(input_fn=build_fn)
  with files.atomic_dir(out_dir, sm.SAVED_MODEL_FILE, "--out") as tmp:
    os.rmdir(tmp)  # the converter creates its own directory
    converter.save(tmp)


# --- ONNX -> TensorRT engine ----------------------------------------------------------------

def engine_shapes(image_size: int, batch_sizes) -> dict[str, tuple]:
  """One optimization profile: the smallest to the largest batch, tuned for the largest."""
  sizes = check_batch_sizes(batch_sizes)
  shape = lambda b: (b, image_size, image_size, 3)
  return {"min": shape(sizes[0]), "opt": shape(sizes[-1]), "max": shape(sizes[-1])}


def trtexec_script(onnx_name: str, engine_name: str, image_size: int, batch_sizes,
                   precision: str) -> str:
  """The shell script that builds the engine on the device with trtexec."""
  if precision not in ENGINE_PRECISIONS:
    raise ValueError(f"engine precision must be one of {ENGINE_PRECISIONS}, got {precision!r}")
  dims = {k: INPUT_NAME + ":" + "x".join(map(str, v))
          for k, v in engine_shapes(image_size, batch_sizes).items()}
  lines = [
      "#!/usr/bin/env bash",
      "# Builds the TensorRT engine for THIS device. Engines are not portable between GPU",
      "# models or TensorRT versions, so build on the Jetson that will run the model.",
      "# Needs trtexec (JetPack: /usr/src/tensorrt/bin/trtexec). Set TRTEXEC to override.",
      "set -euo pipefail",
      'cd "$(dirname "$0")"',
      'TRTEXEC="${TRTEXEC:-$(command -v trtexec || echo /usr/src/tensorrt/bin/trtexec)}"',
      "PRECISION_FLAGS=()",
  ]
  if precision == "fp16":
    lines += [
        "# FP16: TensorRT 10 (JetPack 6 ships 10.3) takes --fp16 and picks FP16 kernels where",
        "# faster. TensorRT 11 removed --fp16 (no weak typing): there the engine keeps the",
        "# ONNX's float32 types; for FP16 on TensorRT 11, convert the ONNX first (ModelOpt",
        "# AutoCast) and build without the flag.",
        'HELP="$("$TRTEXEC" --help 2>&1 || true)"',
        "# trtexec prints its version as [TensorRT v100300] (= 10.3.0).",
        'TRT_VERSION="$(grep -o -m1 "TensorRT v[0-9]*" <<<"$HELP" | tr -dc 0-9 || true)"',
        'if [[ "${TRT_VERSION:-0}" -ge 110000 ]]; then',
        '  echo "TensorRT ${TRT_VERSION} has no --fp16: the engine keeps float32 types" >&2',
        'elif [[ -n "$TRT_VERSION" ]] || grep -q -- "--fp16" <<<"$HELP"; then',
        "  PRECISION_FLAGS=(--fp16)",
        "fi",
    ]
  else:
    lines.append("# FP32: the ONNX's own float32 types; no precision flag.")
  lines += [
      f"# Batch {engine_shapes(image_size, batch_sizes)['min'][0]} to "
      f"{engine_shapes(image_size, batch_sizes)['max'][0]} in one optimization profile "
      f"for input {INPUT_NAME!r} (NHWC, {image_size}x{image_size} RGB).",
      " ".join(['"$TRTEXEC"', f"--onnx={shlex.quote(onnx_name)}",
                f"--saveEngine={shlex.quote(engine_name)}", f"--minShapes={dims['min']}",
                f"--optShapes={dims['opt']}", f"--maxShapes={dims['max']}",
                '"${PRECISION_FLAGS[@]}"', '"$@"']),
      f'echo "built $(pwd)/{engine_name}; benchmark it with: squish-bench {engine_name}"',
  ]
  return "\n".join(lines) + "\n"


def write_build_script(onnx_path: str, engine_name: str, image_size: int, batch_sizes,
                       precision: str) -> str:
  """Writes build_on_jetson.sh beside `onnx_path` (executable); returns its path."""
  path = os.path.join(os.path.dirname(os.path.abspath(onnx_path)), SCRIPT_NAME)
  files.write_text(path, trtexec_script(os.path.basename(onnx_path), engine_name, image_size,
                                        batch_sizes, precision))
  os.chmod(path, 0o755)
  return path


def engine_build_blocker() -> str | None:
  """Why no engine can be built in this process (None when TensorRT and a GPU exist)."""
  if importlib.util.find_spec("tensorrt") is None:
    return "the Python package `tensorrt` is not installed"
  count, why = cuda.cuda_device_count()
  return None if count else f"no NVIDIA GPU ({why})"


def tensorrt_major(version: str) -> int:
  return int(version.split(".")[0])


def build_engine(onnx_path: str, engine_path: str, image_size: int, batch_sizes,
                 precision: str) -> dict:
  """Builds a serialized engine from the ONNX with the TensorRT Python API, for this GPU.

  Returns what was built: TensorRT version, precision actually used, shapes.
  """
  import tensorrt as trt
  if precision == "int8":
    raise UserError("INT8 engines need calibration data inside TensorRT; use --format=tftrt "
                    "--precision=int8 on NVIDIA's TensorFlow, or --precision=fp16")
  major = tensorrt_major(trt.__version__)
  logger = trt.Logger(trt.Logger.WARNING)
  builder = trt.Builder(logger)
  network = builder.create_network(0)  # explicit batch is the only mode since TensorRT 10
  parser = trt.OnnxParser(network, logger)
  with open(onnx_path, "rb") as f:
    if not parser.parse(f.read()):
      errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
      raise RuntimeError(f"TensorRT could not parse {onnx_path}: {errors}")
  config = builder.create_builder_config()
  config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
  shapes = engine_shapes(image_size, batch_sizes)
  profile = builder.create_optimization_profile()
  profile.set_shape(INPUT_NAME, shapes["min"], shapes["opt"], shapes["max"])
  config.add_optimization_profile(profile)
  used, note = "fp32", ""
  if precision == "fp16":
    if major >= 11:  # BuilderFlag.FP16 is gone; the network keeps the ONNX's types
      note = ("TensorRT 11 has no FP16 flag: built with the ONNX's float32 types "
              "(convert the ONNX with ModelOpt AutoCast for FP16)")
    elif getattr(builder, "platform_has_fast_fp16", True):
      config.set_flag(trt.BuilderFlag.FP16)
      used = "fp16"
    else:
      note = "this GPU has no fast FP16: built in float32"
  serialized = builder.build_serialized_network(network, config)
  if serialized is None:
    raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path} (see its log above)")
  files.write_bytes(engine_path, bytes(serialized))
  info = {"tensorrt_version": trt.__version__, "precision_requested": precision,
          "precision": used, "note": note, "bytes": os.path.getsize(engine_path),
          "profile": {k: list(v) for k, v in shapes.items()}}
  files.write_json(engine_path + ".json", info)
  return info
