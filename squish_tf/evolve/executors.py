"""Executors: how one generation's offspring tasks run: here, in a recycled child process,
or as Ray tasks.

An executor is called as `executor(fn, arg_lists)` and returns `[fn(*args) ...]`
in order. Tasks take `offspring.offspring_task`'s arguments (the run config first:
`args[0].seed` seeds them; the offspring index sixth) and return a dict with
"offspring" and "top1_val"; a task function's `log_name`, if set, names its tasks in
warnings instead of "offspring k/P". A task that still fails after its
retries comes back as a failed result (`failed_result`) that no selection keeps,
so one bad offspring never loses a generation.

Each task seeds TensorFlow and enables deterministic ops itself, in whatever
process runs it, so `local`, `process` and `ray` compute the same offspring. TensorFlow's
CPU kernels split float sums by thread count, so a Ray node with a different
number of cores than the driver can give offspring that differ in the last
digits (and, rarely, a different selection).
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import importlib.util
import multiprocessing
import os
import signal
import sys
import traceback

from absl import logging

from squish_tf import logs
from squish_tf.errors import UserError

EXECUTORS = ("local", "process", "ray")
# Offspring a `process` worker trains before it is replaced: each leaves it ~20-100 MB that
# TensorFlow never frees (ProcessExecutor); a fresh worker costs a few seconds of start-up.
TASKS_PER_WORKER = 8
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
FAILED_TOP1 = -1.0  # below any --accuracy_floor, so a failed offspring is never selected
RAY_MISSING = ("--executor=ray needs Ray: pip install 'squish_tf[ray]' (on every node of the "
               "cluster), or use --executor=local")


def offspring_label(index: int, population: int) -> str:
  """"offspring k/P", naming the milder level: offspring drawn with milder factors carry
  indices past the population (their own random streams)."""
  level, k = divmod(index, population)
  return f"offspring {k + 1}/{population}" + (f" (milder level {level})" if level else "")


def _label(fn, args: tuple) -> str:
  """A task's name in the run's log: the function's `log_name` if it has one (the polish is
  a single task, not an offspring), else "offspring k/P" from (cfg, ..., index)."""
  return getattr(fn, "log_name", None) or offspring_label(args[5], args[0].population)


def failed_result(args: tuple, reason: str) -> dict:
  """The result of an offspring task that could not finish.

  It keeps the parent's spec and masks (what the offspring started from) so a
  driver can log it like any other, and carries no weights.
  """
  parent_spec, parent_masks, k = args[1], args[3], args[5]
  return {"offspring": k, "top1_val": FAILED_TOP1, "failed": reason, "spec": parent_spec,
          "weights": None, "masks": parent_masks, "phase_seconds": {}}


def _prepare_tf(seed: int) -> None:
  """Per-task TensorFlow set-up: the run's seed, deterministic ops, GPU memory growth."""
  # imported here: a spawned worker imports this module before it can mute TensorFlow's
  # start-up lines (_start_worker)
  import keras
  import tensorflow as tf
  for gpu in tf.config.list_physical_devices("GPU"):
    try:  # several tasks may share a GPU; only possible before the GPU is first used
      tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:
      pass
  tf.config.experimental.enable_op_determinism()
  keras.utils.set_random_seed(seed)


def _seeded_call(fn, *args):
  _prepare_tf(args[0].seed)
  return fn(*args)


def _one_line(error: BaseException) -> str:
  lines = str(error).strip().splitlines()
  return f"{type(error).__name__}: {lines[-1] if lines else ''}".strip()


class LocalExecutor:
  """One offspring after another in this process.

  A task that raises is logged and counted as failed, without a retry: in the
  same process the same inputs fail the same way.
  """

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    return False

  def __call__(self, fn, arg_lists):
    results = []
    for args in arg_lists:
      try:
        results.append(_seeded_call(fn, *args))
      except Exception as error:  # noqa: BLE001 - one offspring must not end the run
        logging.warning("%s failed:\n%s", _label(fn, args), traceback.format_exc())
        results.append(failed_result(args, _one_line(error)))
    return results


def _start_worker(parent: int, verbosity: int) -> None:
  """A worker's first act: die with its parent (Linux), so that a driver killed mid-run leaves
  no orphan training on beside the run that resumes it; then log as the parent does."""
  if sys.platform.startswith("linux"):
    # The signal follows the thread that spawned this process: the caller's, or for a
    # replacement the pool's manager thread; both live as long as the pool.
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
  if os.getppid() != parent:  # the parent died while this process was starting
    os._exit(1)
  # Ctrl-C reaches the whole process group: the parent says it in one line and ends this
  # process, which would otherwise print a KeyboardInterrupt traceback of its own.
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  logs.as_in_parent(verbosity)


def _child_pool(tasks_per_child: int | None = None):
  return concurrent.futures.ProcessPoolExecutor(
      max_workers=1, mp_context=multiprocessing.get_context("spawn"),
      initializer=_start_worker, initargs=(os.getpid(), logging.get_verbosity()),
      max_tasks_per_child=tasks_per_child)


def _close(pool, interrupted: bool) -> None:
  """Shuts a child pool down; when interrupted, without waiting for the task in training."""
  if interrupted:
    for process in list((getattr(pool, "_processes", None) or {}).values()):
      process.terminate()
  pool.shutdown(wait=not interrupted, cancel_futures=True)


def in_fresh_process(fn, *args):
  """fn(*args) in a spawned process that ends with it, so that all it allocated is freed
  (see ProcessExecutor); its exceptions are raised here (BrokenProcessPool if it died)."""
  pool, interrupted = _child_pool(), True
  try:
    result = pool.submit(fn, *args).result()
    interrupted = False
    return result
  finally:
    _close(pool, interrupted)


class ProcessExecutor:
  """One offspring after another in a child process, replaced every `tasks_per_worker` tasks.

  TensorFlow 2.21 keeps memory behind every Keras model compiled and trained in a process:
  measured +20-100 MB of RSS per fine-tuned network, which neither gc.collect, clear_session
  nor malloc_trim returns (upstream tensorflow#61791, #80753). A long run in one process
  grows by gigabytes; a worker that exits gives it all back. The worker is spawned, not
  forked (TensorFlow's threads do not survive a fork), and dies with this process (Linux).
  A task that raises counts as failed, as with `local`. A worker that dies (killed, out of
  memory) is replaced and its task tried once more, as Ray retries; a second death fails it.
  """

  def __init__(self, tasks_per_worker: int = TASKS_PER_WORKER):
    if tasks_per_worker < 1:
      raise ValueError(f"tasks_per_worker must be >= 1, got {tasks_per_worker}")
    self.tasks_per_worker = tasks_per_worker
    self._pool = None

  def _start(self):
    self._pool = _child_pool(self.tasks_per_worker)

  def __enter__(self):
    self._start()
    return self

  def __exit__(self, exc_type, *exc):
    if self._pool is not None:
      _close(self._pool, interrupted=exc_type is not None)
      self._pool = None
    return False

  def __call__(self, fn, arg_lists):
    if self._pool is None:
      raise RuntimeError("use the process executor inside `with make_executor('process') as "
                         "executor:`")
    # One task at a time, as `local`: the cores go to its kernels. (Queuing several with
    # max_tasks_per_child can also hang Python 3.11's pool: gh-115634.)
    return [self._one(fn, args) for args in arg_lists]

  def _one(self, fn, args) -> dict:
    for attempt in (1, 2):
      try:
        return self._pool.submit(_seeded_call, fn, *args).result()
      except concurrent.futures.process.BrokenProcessPool as error:
        logging.warning("%s: its worker process died (attempt %d of 2): %s", _label(fn, args),
                        attempt, error)
        _close(self._pool, interrupted=True)
        self._start()
        died = error
      except Exception as error:  # noqa: BLE001 - one offspring must not end the run
        # the worker's traceback is chained to the error as its cause
        logging.warning("%s failed:\n%s", _label(fn, args),
                        "".join(traceback.format_exception(error)))
        return failed_result(args, _one_line(error))
    return failed_result(args, f"worker process died twice: {died}")


class RayExecutor:
  """Each offspring as a Ray task with its own CPU/GPU request, gathered per generation.

  With no address, a local Ray instance starts on entering and stops on exit; if
  Ray is already initialised in this process (a cluster program, the tests), that
  instance is used and left running. A task whose worker dies or which raises is
  retried `max_retries` times by Ray, then counted as a failed offspring.
  """

  def __init__(self, address: str | None = None, cpus_per_task: float = 1,
               gpus_per_task: float = 0, max_retries: int = 2):
    if cpus_per_task <= 0 or gpus_per_task < 0 or max_retries < 0:
      raise ValueError(f"cpus_per_task must be > 0, gpus_per_task and max_retries >= 0; got "
                       f"{cpus_per_task}, {gpus_per_task}, {max_retries}")
    self.address, self.max_retries = address, max_retries
    self.cpus_per_task, self.gpus_per_task = cpus_per_task, gpus_per_task
    self._ray = self._task = None
    self._owns_ray = False
    self._pending = []

  def __enter__(self):
    try:
      import ray
    except ImportError as error:
      raise UserError(RAY_MISSING) from error
    self._ray = ray
    if not ray.is_initialized():
      if self.address:
        ray.init(address=self.address)
      else:  # the embedded default: this machine only, quiet workers
        ray.init(include_dashboard=False, log_to_driver=False)
      self._owns_ray = True
    logging.info("Ray: %s CPUs, %s GPUs in the cluster; %s CPU(s) and %s GPU(s) per offspring",
                 ray.cluster_resources().get("CPU", 0), ray.cluster_resources().get("GPU", 0),
                 self.cpus_per_task, self.gpus_per_task)
    self._task = ray.remote(_seeded_call).options(
        num_cpus=self.cpus_per_task, num_gpus=self.gpus_per_task,
        max_retries=self.max_retries, retry_exceptions=True)
    return self

  def __exit__(self, *exc):
    for ref in self._pending:  # interrupted mid-generation: free the cluster
      self._ray.cancel(ref, force=True)
    self._pending = []
    if self._owns_ray:
      self._ray.shutdown()
      self._owns_ray = False
    return False

  def __call__(self, fn, arg_lists):
    if self._task is None:
      raise RuntimeError("use the Ray executor inside `with make_executor('ray') as executor:`")
    ray = self._ray
    shared = {}  # arguments common to all offspring (config, parent weights) are put once

    def put(value):
      if isinstance(value, (int, float, str, type(None))):
        return value
      if id(value) not in shared:
        shared[id(value)] = ray.put(value)
      return shared[id(value)]

    fn_ref = ray.put(fn)
    self._pending = [self._task.remote(fn_ref, *[put(a) for a in args]) for args in arg_lists]
    results = []
    for args, ref in zip(arg_lists, self._pending):
      try:
        results.append(ray.get(ref))
      except ray.exceptions.RayError as error:
        logging.warning("%s failed after %d retries: %s", _label(fn, args), self.max_retries,
                        error)
        results.append(failed_result(args, _one_line(error)))
    self._pending = []
    return results


def check_available(name: str) -> None:
  """Raises the UserError `make_executor(name)` would, without importing Ray or TensorFlow:
  squish-evolve calls it before it opens its run directory."""
  if name == "ray" and importlib.util.find_spec("ray") is None:
    raise UserError(RAY_MISSING)


def make_executor(name: str, ray_address: str | None = None, cpus_per_task: float = 1,
                  gpus_per_task: float = 0, max_retries: int = 2,
                  tasks_per_worker: int = TASKS_PER_WORKER):
  """The executor called `name` (one of EXECUTORS), to use as a context manager."""
  if name == "local":
    return LocalExecutor()
  if name == "process":
    return ProcessExecutor(tasks_per_worker)
  if name == "ray":
    return RayExecutor(ray_address, cpus_per_task, gpus_per_task, max_retries)
  raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {name!r}")
