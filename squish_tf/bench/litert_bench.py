"""Interpreter throughput and latency of .tflite files, measured side by side.

Files are measured in interleaved rounds (A, B, A, B, ...) in one process, so a
slow spell of the machine hits every file alike; statistics as in `timing`.
"""

from __future__ import annotations

import os

import numpy as np

from squish_tf import files
from squish_tf.bench import timing
from squish_tf.errors import UserError
from squish_tf.export import runtime
from squish_tf.net import arch

BATCH_SIZES = (1, 32)


def _check_folded(path: str, interp, own: int, size: int) -> None:
  """A file folded for its own size (`runtime.folded_layers`) resized to a size where those
  layers see more than one pixel would run, and time, another network."""
  if size == own:
    return
  live = sorted(set(runtime.folded_layers(interp)) - set(arch.inert_taps(size)))
  if live:
    raise UserError(f"{path} stores {', '.join(live)} folded to 1x1 for its {own}x{own} input; "
                    f"at {size}x{size} it would compute another network: time it at its own "
                    f"size (--image_size=0), or its model.keras converted with "
                    f"squish_tf.export.litert.to_tflite(model, fold=False)")


def _prepared(path: str, batch: int, image_size: int | None, threads: int | None):
  """An interpreter resized to [batch, size, size, C] with a random input set."""
  interp = runtime.interpreter(model_path=path, threads=threads)
  details = interp.get_input_details()
  inp = details[0]
  shape = list(inp["shape"])
  if len(details) != 1 or len(shape) != 4 or shape[1] != shape[2]:
    shapes = " and ".join(str(d["shape"].tolist()) for d in details)
    raise UserError(f"{path}: its input is {shapes}, not one batch of square images "
                    f"[N, S, S, C]; squish-bench times image classifiers such as the ones "
                    f"squish-evolve writes")
  size = image_size or shape[1]
  _check_folded(path, interp, shape[1], size)
  try:
    interp.resize_tensor_input(inp["index"], [batch, size, size, shape[3]], strict=False)
    interp.allocate_tensors()
  except (RuntimeError, ValueError):
    raise UserError(f"{path}: this model does not accept {size}x{size} inputs; pass "
                    f"--image_size={shape[1]} (its own size)") from None
  rng = np.random.default_rng(0)
  if np.issubdtype(inp["dtype"], np.integer):
    info = np.iinfo(inp["dtype"])
    x = rng.integers(info.min, info.max, size=(batch, size, size, shape[3]), endpoint=True)
  else:
    x = rng.random((batch, size, size, shape[3]))
  interp.set_tensor(inp["index"], x.astype(inp["dtype"]))
  return interp


def benchmark(paths: list[str], image_size: int | None = 224, threads: int | None = None,
              batch_sizes=BATCH_SIZES, seconds: float = 2.0, rounds: int = 3,
              warmup: int = 2, min_runs: int = 3) -> list[dict]:
  """Size, images/s and latency percentiles per file, per batch size.

  `seconds` is the measuring time per file and batch size, split over `rounds`.
  `image_size=None` keeps each model's own input size.
  """
  threads = threads or os.cpu_count()
  if threads < 1:
    raise ValueError(f"threads must be >= 1, got {threads}")
  for path in paths:  # a missing or broken file fails here, before any timing
    runtime.interpreter(model_path=path)
  results = [{"path": path, "threads": threads, **files.sizes(path)} for path in paths]
  for batch in batch_sizes:
    interps = [_prepared(p, batch, image_size, threads) for p in paths]
    for interp in interps:
      for _ in range(warmup):
        interp.invoke()
    rounds_of = [[] for _ in paths]
    for _ in range(rounds):
      for i, interp in enumerate(interps):
        rounds_of[i].append(timing.time_runs(interp.invoke, seconds / rounds, min_runs))
    for i, interp in enumerate(interps):
      results[i].update(timing.summarize(batch, rounds_of[i]))
      results[i]["image_size"] = int(interp.get_input_details()[0]["shape"][1])
  return [timing.headline(r) for r in results]


def format_table(results: list[dict]) -> str:
  """A plain-text table of benchmark results, one row per file."""
  head = ["file", "size", "gzip", "img/s b1", "img/s b32", "p50 ms", "p90 ms"]
  rows = [[r["path"],  # as given: released files are all model.tflite, told apart by folder
           f"{r['bytes'] / 1e6:.3f} MB", f"{r['gzip_bytes'] / 1e6:.3f} MB",
           f"{r.get('images_per_sec_b1', float('nan')):.1f}",
           f"{r.get('images_per_sec_b32', float('nan')):.1f}",
           f"{r.get('latency_ms_p50', float('nan')):.3f}",
           f"{r.get('latency_ms_p90', float('nan')):.3f}"] for r in results]
  widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
  line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))
  sizes = sorted({r.get("image_size", "?") for r in results}, key=str) or ["?"]
  size = " / ".join(f"{s}x{s}" for s in sizes)  # files at their own sizes: each is named
  where = (f"{results[0]['threads']} interpreter thread(s)" if results and results[0].get("threads")
           else (results[0].get("device", "GPU") if results else "?"))
  return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
                   + [f"({size} input, {where})"])
