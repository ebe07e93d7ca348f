"""The NVIDIA GPU through the CUDA runtime library (ctypes): is there one, and its memory.

Only what a TensorRT engine needs (device count, memory, copies, a stream), so nothing
beyond TensorRT itself is needed on a Jetson (JetPack ships libcudart). Engine building
(`tensorrt_build`) asks whether a GPU exists; the GPU benchmark (`squish_tf.bench.gpu`)
runs engines with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os

import numpy as np

from squish_tf.errors import UserError

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
