"""Benchmark whatever model files a user names: .tflite through LiteRT, TensorRT engines and
(TF-TRT) SavedModel directories on the GPU. One device per call: they are not comparable
side by side.
"""

from __future__ import annotations

import glob
import os

from squish_tf.errors import UserError


def is_gpu_model(path: str) -> bool:
  return path.endswith((".plan", ".engine")) or os.path.isdir(path)


def _has_tftrt_engines(saved_model_dir: str) -> bool:
  """TF-TRT replaces the graph's segments with TRTEngineOp nodes, named in saved_model.pb."""
  path, tail = os.path.join(saved_model_dir, "saved_model.pb"), b""
  try:
    with open(path, "rb") as f:
      while chunk := f.read(1 << 20):  # a graph with its constants may be large
        if b"TRTEngineOp" in tail + chunk:
          return True
        tail = chunk[-len(b"TRTEngineOp"):]
  except OSError as e:
    raise UserError(f"{path}: {e.strerror}; pass a SavedModel this user can read") from None
  return False


def check_paths(paths: list[str]) -> None:
  """Refuses what cannot be timed, naming the path (squish-bench asks before TensorFlow)."""
  if not paths:
    raise UserError("no model given; usage: squish-bench A.tflite [B.tflite ...] (or TensorRT "
                    "engines / TF-TRT SavedModel directories on a GPU machine)")
  for p in paths:
    if not os.path.exists(p):
      raise UserError(f"{p}: no such .tflite file (or TensorRT engine, or TF-TRT SavedModel "
                      f"directory); check the path")
    if os.path.isdir(p) and not os.path.isfile(os.path.join(p, "saved_model.pb")):
      found = sorted(glob.glob(os.path.join(glob.escape(p), "**", "*.tflite"), recursive=True))
      raise UserError(f"{p} is a directory but not a SavedModel (no saved_model.pb); pass "
                      f".tflite files{', e.g. ' + found[0] if found else ''}")
    if os.path.isdir(p) and not _has_tftrt_engines(p):
      raise UserError(f"{p} is a SavedModel without TF-TRT engines (no TRTEngineOp in its "
                      f"graph): squish-bench times SavedModels only as TF-TRT runs them, on an "
                      f"NVIDIA GPU; time the generation's model.tflite instead")
  gpu = [p for p in paths if is_gpu_model(p)]
  if gpu and len(gpu) != len(paths):
    raise UserError("benchmark .tflite files and GPU models (TensorRT engines, TF-TRT "
                    "SavedModels) in separate runs: they run on different devices")


def benchmark(paths: list[str], image_size: int | None = 224, threads: int | None = None,
              seconds: float = 3.0, warmup: int = 2) -> list[dict]:
  """Size, images/s and latency of each file; LiteRT files are measured side by side."""
  check_paths(paths)
  gpu = [p for p in paths if is_gpu_model(p)]
  if not gpu:
    from squish_tf.bench import litert_bench
    return litert_bench.benchmark(paths, image_size=image_size, threads=threads,
                                  seconds=seconds, warmup=warmup)
  from squish_tf.bench import gpu as gpu_bench
  return [gpu_bench.benchmark_tftrt(p, image_size=image_size, seconds=seconds, warmup=warmup)
          if os.path.isdir(p) else
          gpu_bench.benchmark_engine(p, image_size=image_size, seconds=seconds, warmup=warmup)
          for p in paths]
