"""Images/s and latency on an NVIDIA GPU: TensorRT engines and (TF-TRT) SavedModels.

Results carry the keys of `squish_tf.bench.litert_bench.benchmark` (`images_per_sec_b1`,
`images_per_sec_b32`, `latency_ms_p50`, `latency_ms_p90`, per-batch `latency_ms_p50_bN`...),
measured by the same `timing.measure`: inputs placed once, then timed runs (for an engine:
enqueue + stream synchronize, input already on the GPU, output left there).
"""

from __future__ import annotations

import os

import numpy as np

from squish_tf import files
from squish_tf.bench import timing
from squish_tf.errors import UserError
from squish_tf.export import cuda, tensorrt_build, verify
from squish_tf.export import saved_model as sm

BATCH_SIZES = (1, 32)


class EngineRunner:
  """A deserialized TensorRT engine with GPU buffers for one batch size at a time."""

  def __init__(self, path: str):
    trt = cuda.require_tensorrt_gpu()
    if not os.path.isfile(path):
      raise UserError(f"{path}: no such TensorRT engine file; check the path")
    self.cuda = cuda.Cudart()
    self.logger = trt.Logger(trt.Logger.WARNING)
    self.runtime = trt.Runtime(self.logger)
    with open(path, "rb") as f:
      self.engine = self.runtime.deserialize_cuda_engine(f.read())
    if self.engine is None:
      raise UserError(f"{path}: TensorRT could not load this engine (built by another TensorRT "
                      f"version or for another GPU?); rebuild it here with build_on_jetson.sh")
    self.context = self.engine.create_execution_context()
    names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
    inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
    self.input, self.outputs = inputs[0], [n for n in names if n not in inputs]
    self.image_size = int(self.engine.get_tensor_shape(self.input)[1])
    self.max_batch = int(self.engine.get_tensor_profile_shape(self.input, 0)[2][0])
    self.dtypes = {n: np.dtype(trt.nptype(self.engine.get_tensor_dtype(n))) for n in names}
    self.stream = self.cuda.stream()
    self.buffers, self.batch = {}, None

  def set_batch(self, batch: int) -> None:
    if batch == self.batch:
      return
    if batch > self.max_batch:
      raise UserError(f"the engine's profile allows batches up to {self.max_batch}, not {batch}; "
                      f"rebuild it with a larger --maxShapes or bench smaller batches")
    self._free()
    self.context.set_input_shape(self.input, (batch, self.image_size, self.image_size, 3))
    for name in [self.input] + self.outputs:
      shape = tuple(self.context.get_tensor_shape(name))
      ptr = self.cuda.malloc(int(np.prod(shape)) * self.dtypes[name].itemsize)
      self.buffers[name] = (ptr, shape)
      self.context.set_tensor_address(name, ptr)
    self.batch = batch

  def set_input(self, images: np.ndarray) -> None:
    self.set_batch(len(images))
    self.cuda.to_device(self.buffers[self.input][0], images.astype(self.dtypes[self.input]))

  def execute(self) -> None:
    if not self.context.execute_async_v3(self.stream):
      raise RuntimeError("TensorRT execution failed")
    self.cuda.synchronize(self.stream)

  def output(self) -> np.ndarray:
    ptr, shape = self.buffers[self.outputs[0]]
    out = np.empty(shape, self.dtypes[self.outputs[0]])
    self.cuda.to_host(out, ptr)
    return out

  def predict(self, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    def run(batch):
      self.set_input(batch)
      self.execute()
      return self.output().copy()
    return verify.in_batches(run, images, batch_size)

  def _free(self) -> None:
    for ptr, _ in self.buffers.values():
      self.cuda.free(ptr)
    self.buffers = {}

  def close(self) -> None:
    self._free()
    self.cuda.destroy_stream(self.stream)


def _random_images(batch: int, image_size: int) -> np.ndarray:
  return np.random.default_rng(0).random((batch, image_size, image_size, 3), dtype=np.float32)


def benchmark_engine(path: str, image_size: int | None = None, batch_sizes=BATCH_SIZES,
                     seconds: float = 2.0, warmup: int = 3) -> dict:
  """Images/s and latency of a serialized TensorRT engine (.plan/.engine) on this GPU.

  `image_size` must be the engine's own (engines have a fixed H x W) or None.
  """
  runner = EngineRunner(path)
  try:
    if image_size not in (None, runner.image_size):
      raise UserError(f"{path} was built for {runner.image_size}x{runner.image_size} inputs, not "
                      f"{image_size}; pass --image_size={runner.image_size} or 0")
    result = {"path": path, "format": "tensorrt", "image_size": runner.image_size,
              "threads": None, "device": "cuda:0", **files.sizes(path)}
    for batch in batch_sizes:
      runner.set_input(_random_images(batch, runner.image_size))
      result.update(timing.measure(runner.execute, batch, seconds, warmup=warmup))
    return timing.headline(result)
  finally:
    runner.close()


def benchmark_saved_model(saved_model_dir: str, image_size: int | None = None,
                          batch_sizes=BATCH_SIZES, seconds: float = 2.0, warmup: int = 3,
                          device: str | None = None) -> dict:
  """Images/s and latency of a SavedModel's serving signature on `device` (TF's default
  placement when None). Any SavedModel written by `squish_tf.export.saved_model` works, on
  CPU too."""
  import tensorflow as tf
  if not os.path.isfile(os.path.join(saved_model_dir, "saved_model.pb")):
    raise UserError(f"{saved_model_dir}: not a SavedModel directory (no saved_model.pb); "
                    f"export one with squish-export --format=saved_model or tftrt")
  fn = sm.signature(saved_model_dir)
  own = fn.structured_input_signature[1][sm.INPUT_NAME].shape[1]
  size = image_size or own
  if own is not None and size != own:
    raise UserError(f"{saved_model_dir} takes {own}x{own} inputs, not {size}; pass "
                    f"--image_size={own} or 0")
  device = device or ("/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0")
  result = {"path": saved_model_dir, "format": "saved_model", "image_size": int(size),
            "threads": None, "device": device, **files.sizes(saved_model_dir)}
  with tf.device(device):
    for batch in batch_sizes:
      x = tf.constant(_random_images(batch, size))
      # .numpy() waits for the GPU; the [batch, classes] copy back is negligible.
      run = lambda: fn(**{sm.INPUT_NAME: x})[sm.OUTPUT_NAME].numpy()
      result.update(timing.measure(run, batch, seconds, warmup=warmup))
  return timing.headline(result)


def benchmark_tftrt(saved_model_dir: str, image_size: int | None = None, batch_sizes=BATCH_SIZES,
                    seconds: float = 2.0, warmup: int = 3) -> dict:
  """`benchmark_saved_model` on the GPU, for a TF-TRT SavedModel: needs TensorFlow with
  TensorRT (NVIDIA's Jetson build or container) and a GPU, else a UserError."""
  import tensorflow as tf
  tensorrt_build.require_tftrt()
  if not tf.config.list_physical_devices("GPU"):
    raise UserError("TensorFlow sees no GPU; TF-TRT SavedModels run only on an NVIDIA GPU "
                    "(check the CUDA driver, or CUDA_VISIBLE_DEVICES)")
  result = benchmark_saved_model(saved_model_dir, image_size, batch_sizes, seconds, warmup,
                                 device="/GPU:0")
  result["format"] = "tftrt"
  return result
