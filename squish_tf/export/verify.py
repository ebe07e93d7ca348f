"""Convert, check against Keras, and only then write: the one path every export format takes.

Every format (float32 and int8 TFLite, ONNX, SavedModel) is run on real images and compared
with the Keras model that produced it; a file that disagrees beyond its `Tolerance` is never
written. What the check measured goes into a JSON sidecar (`<path>.json`) beside the file.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from squish_tf import files
from squish_tf.errors import UserError


@dataclasses.dataclass(frozen=True)
class Tolerance:
  """How far an exported model may be from the model it was made from.

  `max_abs_diff` bounds the probabilities (None: only top-1 agreement is checked, as for
  int8). A refusal is a bug (RuntimeError) unless `fix` says what the user can do about it,
  in which case it is a UserError carrying that advice.
  """
  what: str
  max_abs_diff: float | None
  min_agreement: float
  reference: str = "Keras"
  fix: str | None = None

  def enforce(self, figures: dict, path: str) -> None:
    diff_ok = self.max_abs_diff is None or figures["max_abs_diff"] <= self.max_abs_diff
    if diff_ok and figures["argmax_agreement"] >= self.min_agreement:
      return
    if self.fix is None:
      raise RuntimeError(f"{self.what} disagrees with {self.reference}: {figures}; "
                         f"{path} not written")
    raise UserError(f"{path}: {self.what} agrees with {self.reference} on only "
                    f"{figures['argmax_agreement']:.1%} of {figures['images']} validation "
                    f"images (needs {self.min_agreement:.0%}); not written: {self.fix}")


def in_batches(run, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
  """`run(batch)` over `images` in batches of `batch_size` (the last one smaller)."""
  return np.concatenate([np.asarray(run(images[i:i + batch_size]))
                         for i in range(0, len(images), batch_size)])


def top1(probs: np.ndarray, labels: np.ndarray) -> float:
  return float(np.mean(np.asarray(probs).argmax(1) == np.asarray(labels)))


def keras_predict(keras_model, images: np.ndarray) -> np.ndarray:
  """The reference outputs every export is compared with."""
  return np.asarray(keras_model.predict(images, batch_size=64, verbose=0))


def compare(expected: np.ndarray, got: np.ndarray, labels: np.ndarray | None = None) -> dict:
  """How two models' probabilities on the same images differ.

  `agreement_with_ties` also counts an image where the reference's winner is among the
  tied maxima of `got`: int8 outputs tie often, and argmax breaks ties towards the lower
  class, so it tells ties from a different winner.
  """
  expected, got = np.asarray(expected, np.float32), np.asarray(got, np.float32)
  reference_top = expected.argmax(1)
  figures = {
      "max_abs_diff": float(np.max(np.abs(expected - got))),
      "argmax_agreement": float(np.mean(reference_top == got.argmax(1))),
      "agreement_with_ties": float(np.mean(got[np.arange(len(got)), reference_top]
                                           == got.max(1))),
      "images": int(len(expected)),
  }
  if labels is not None:
    figures["top1_reference"] = top1(expected, labels)
    figures["top1_export"] = top1(got, labels)
  return figures


def keep(path: str, blob: bytes, figures: dict) -> dict:
  """Writes the checked file and its figures beside it, each atomically."""
  figures = {**figures, "bytes": len(blob), "sha256": files.digest(blob)}
  files.write_bytes(path, blob)
  files.write_json(path + ".json", figures)
  return figures


def export_bytes(path: str, blob: bytes, run, expected: np.ndarray, tolerance: Tolerance,
                 labels: np.ndarray | None = None, extra: dict | None = None) -> dict:
  """Checks `run(blob)` against `expected` and writes `path` (+ figures) only if it agrees."""
  figures = compare(expected, run(blob), labels)
  figures.update(extra or {})
  tolerance.enforce(figures, path)
  return keep(path, blob, figures)
