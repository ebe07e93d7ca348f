"""Images/s and latency on an NVIDIA GPU: TensorRT engines and (TF-TRT) SavedModels.

Results carry the keys of `bench.benchmark` (`images_per_sec_b1`, `images_per_sec_b32`,
`latency_ms_p50`, `latency_ms_p90`, per-batch `latency_ms_p50_bN`...), measured the same
way: inputs placed once, then timed runs (for an engine: enqueue + stream synchronize,
input already on the GPU, output left there), median of rounds for images/s.

GPU memory for engines goes through the CUDA runtime library by ctypes, so nothing
beyond TensorRT itself is needed on a Jetson (JetPack ships libcudart).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import gzip
import os
import time

import numpy as np

from squish_tf.errors import UserError

BATCH_SIZES = (1, 32)
_H2D, _D2H = 1, 2  # cudaMemcpyKind


def _cudart_candidates() -> list[str]:
  names = [ctypes.util.find_library("cudart")]
  try:  # the `tensorrt` wheel pulls in NVIDIA's CUDA runtime wheel
    import nvidia.cuda_runtime as rt
    names += glob.glob(os.path.join(list(rt.__path__)[0], "lib", "libcudart.so*"))
  except ImportError:
    pass
  names += sorted(glob.glob("/usr/local/cuda/lib64/libcudart.so*"))
  return [n for n in names if n]


class Cudart:
  """The few CUDA runtime calls an engine needs: device count, memory, copies, a stream."""

  def __init__(self):
    self.lib = None
    for name in _cudart_candidates():
      try:
        self.lib = ctypes.CDLL(name)
        break
      except OSError:
        continue
    if self.lib is None:
      raise UserError("the CUDA runtime library (libcudart) was not found; run on a machine "
                      "with an NVIDIA GPU and CUDA (JetPack on a Jetson)")
    lib, p = self.lib, ctypes.c_void_p
    lib.cudaGetErrorString.restype = ctypes.c_char_p
    lib.cudaGetDeviceCount.argtypes = [ctypes.POINTER(ctypes.c_int)]
    lib.cudaMalloc.argtypes = [ctypes.POINTER(p), ctypes.c_size_t]
    lib.cudaFree.argtypes = [p]
    lib.cudaMemcpy.argtypes = [p, p, ctypes.c_size_t, ctypes.c_int]
    lib.cudaStreamCreate.argtypes = [ctypes.POINTER(p)]
    lib.cudaStreamSynchronize.argtypes = [p]
    lib.cudaStreamDestroy.argtypes = [p]

  def _check(self, status: int, what: str) -> None:
    if status != 0:
      raise RuntimeError(f"{what}: {self.lib.cudaGetErrorString(status).decode()}")

  def device_count(self) -> tuple[int, str]:
    """(number of CUDA devices, why none when 0)."""
    n = ctypes.c_int(0)
    status = self.lib.cudaGetDeviceCount(ctypes.byref(n))
    if status != 0:
      return 0, self.lib.cudaGetErrorString(status).decode()
    return n.value, "" if n.value else "no CUDA device"

  def malloc(self, nbytes: int) -> int:
    ptr = ctypes.c_void_p()
    self._check(self.lib.cudaMalloc(ctypes.byref(ptr), max(int(nbytes), 1)), "cudaMalloc")
    return ptr.value

  def free(self, ptr: int) -> None:
    self.lib.cudaFree(ptr)

  def to_device(self, ptr: int, array: np.ndarray) -> None:
    array = np.ascontiguousarray(array)
    self._check(self.lib.cudaMemcpy(ptr, array.ctypes.data, array.nbytes, _H2D), "cudaMemcpy")

  def to_host(self, array: np.ndarray, ptr: int) -> None:
    self._check(self.lib.cudaMemcpy(array.ctypes.data, ptr, array.nbytes, _D2H), "cudaMemcpy")

  def stream(self) -> int:
    s = ctypes.c_void_p()
    self._check(self.lib.cudaStreamCreate(ctypes.byref(s)), "cudaStreamCreate")
    return s.value or 0

  def synchronize(self, stream: int) -> None:
    self._check(self.lib.cudaStreamSynchronize(stream), "cudaStreamSynchronize")

  def destroy_stream(self, stream: int) -> None:
    self.lib.cudaStreamDestroy(stream)


def cuda_device_count() -> tuple[int, str]:
  """(CUDA devices visible, why none): never raises, for skips and messages."""
  try:
    return Cudart().device_count()
  except UserError as e:
    return 0, str(e)


def require_tensorrt_gpu():
  """The `tensorrt` module, or a UserError saying what is missing."""
  try:
    import tensorrt
  except ImportError:
    raise UserError("the Python package `tensorrt` is not installed; benchmark engines on the "
                    "device they were built on (JetPack ships it as python3-libnvinfer)") from None
  count, why = cuda_device_count()
  if count == 0:
    raise UserError(f"no NVIDIA GPU here ({why}); run this on the GPU the engine was built for")
  return tensorrt


class EngineRunner:
  """A deserialized TensorRT engine with GPU buffers for one batch size at a time."""

  def __init__(self, path: str):
    trt = require_tensorrt_gpu()
    if not os.path.isfile(path):
      raise UserError(f"{path}: no such TensorRT engine file; check the path")
    self.cuda = Cudart()
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
    results = []
    for i in range(0, len(images), batch_size):
      self.set_input(images[i:i + batch_size])
      self.execute()
      results.append(self.output().copy())
    return np.concatenate(results)

  def _free(self) -> None:
    for ptr, _ in self.buffers.values():
      self.cuda.free(ptr)
    self.buffers = {}

  def close(self) -> None:
    self._free()
    self.cuda.destroy_stream(self.stream)


def measure(run, batch: int, seconds: float, rounds: int = 3, warmup: int = 3,
            min_runs: int = 3) -> dict:
  """Times `run()` (one batch of `batch` images): images/s as the median over rounds,
  latency percentiles over all runs. The same statistics as `bench.benchmark`."""
  for _ in range(warmup):
    run()
  latencies, rates = [], []
  for _ in range(rounds):
    lat = []
    deadline = time.perf_counter() + seconds / rounds
    while len(lat) < min_runs or time.perf_counter() < deadline:
      start = time.perf_counter()
      run()
      lat.append(time.perf_counter() - start)
    latencies += lat
    rates.append(batch * len(lat) / sum(lat))
  lat_ms = np.array(latencies) * 1000.0
  return {
      f"images_per_sec_b{batch}": round(float(np.median(rates)), 2),
      f"latency_ms_p50_b{batch}": round(float(np.percentile(lat_ms, 50)), 3),
      f"latency_ms_p90_b{batch}": round(float(np.percentile(lat_ms, 90)), 3),
  }


def _headline(result: dict) -> dict:
  """The headline latency is one image at a time, as for .tflite."""
  if "latency_ms_p50_b1" in result:
    result["latency_ms_p50"] = result["latency_ms_p50_b1"]
    result["latency_ms_p90"] = result["latency_ms_p90_b1"]
  return result


def _sizes(path: str) -> dict:
  """Bytes and gzipped bytes of a file, or of all files of a directory."""
  paths = ([path] if os.path.isfile(path) else
           sorted(os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs))
  data = b"".join(open(p, "rb").read() for p in paths)
  return {"bytes": len(data), "gzip_bytes": len(gzip.compress(data, compresslevel=6))}


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
              "threads": None, "device": "cuda:0", **_sizes(path)}
    for batch in batch_sizes:
      runner.set_input(_random_images(batch, runner.image_size))
      result.update(measure(runner.execute, batch, seconds, warmup=warmup))
    return _headline(result)
  finally:
    runner.close()


def benchmark_saved_model(saved_model_dir: str, image_size: int | None = None,
                          batch_sizes=BATCH_SIZES, seconds: float = 2.0, warmup: int = 3,
                          device: str | None = None) -> dict:
  """Images/s and latency of a SavedModel's serving signature on `device` (TF's default
  placement when None). Any SavedModel written by `saved_model_export` works, on CPU too."""
  import tensorflow as tf
  from squish_tf import saved_model_export as sm
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
            "threads": None, "device": device, **_sizes(saved_model_dir)}
  with tf.device(device):
    for batch in batch_sizes:
      x = tf.constant(_random_images(batch, size))
      # .numpy() waits for the GPU; the [batch, classes] copy back is negligible.
      run = lambda: fn(**{sm.INPUT_NAME: x})[sm.OUTPUT_NAME].numpy()
      result.update(measure(run, batch, seconds, warmup=warmup))
  return _headline(result)


def benchmark_tftrt(saved_model_dir: str, image_size: int | None = None, batch_sizes=BATCH_SIZES,
                    seconds: float = 2.0, warmup: int = 3) -> dict:
  """`benchmark_saved_model` on the GPU, for a TF-TRT SavedModel: needs TensorFlow with
  TensorRT (NVIDIA's Jetson build or container) and a GPU, else a UserError."""
  import tensorflow as tf
  from squish_tf import tensorrt_export
  tensorrt_export.require_tftrt()
  if not tf.config.list_physical_devices("GPU"):
    raise UserError("TensorFlow sees no GPU; TF-TRT SavedModels run only on an NVIDIA GPU "
                    "(check the CUDA driver, or CUDA_VISIBLE_DEVICES)")
  result = benchmark_saved_model(saved_model_dir, image_size, batch_sizes, seconds, warmup,
                                 device="/GPU:0")
  result["format"] = "tftrt"
  return result
