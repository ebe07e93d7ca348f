"""Where a trained model's weights come from: the data set, its split, the input size, the classes.

Every .keras file squish_tf writes has `<file>.json` beside it holding this record, so a model
reused as `--ancestor` is checked against the run that reuses it: a model trained on another
split (another seed) may have trained on this run's test images, and one trained at another
size or on other classes computes something else.
"""

from __future__ import annotations

import json
import os

from squish_tf import files
from squish_tf.errors import UserError

COMPARED = ("dataset", "split_seed", "image_size", "num_classes", "class_names")


def record(dataset: str, split_seed: int, image_size: int, class_names: list,
           data_dir: str | None = None) -> dict:
  return {"dataset": dataset, "split_seed": int(split_seed), "image_size": int(image_size),
          "num_classes": len(class_names), "class_names": list(class_names),
          "data_dir": data_dir}


def write(model_path: str, provenance: dict) -> None:
  files.write_json(model_path + ".json", {"provenance": provenance})


def read(model_path: str, flag: str = "--ancestor") -> dict:
  """The provenance written beside a model; a UserError when it is missing or damaged."""
  path = model_path + ".json"
  try:
    return files.read_json(path)["provenance"]
  except FileNotFoundError:
    raise UserError(f"{flag}={model_path} has no provenance record ({path}), so nothing says "
                    f"which data and split it was trained on; pass a model written by "
                    f"squish-train or squish-evolve, which record it") from None
  except (json.JSONDecodeError, KeyError, TypeError) as e:
    raise UserError(f"{path} is damaged ({type(e).__name__}: {e}); write the model again with "
                    f"squish-train") from None


def check(found: dict, expected: dict, model_path: str, flag: str = "--ancestor") -> None:
  """Refuses a model trained on other data, another split, size or class list."""
  diff = [k for k in COMPARED if found.get(k) != expected.get(k)]
  if diff:
    shown = ", ".join(f"{k} {found.get(k)!r} (this run: {expected.get(k)!r})" for k in diff
                      if k != "class_names" or "num_classes" not in diff)
    raise UserError(f"{flag}={model_path} was trained with {shown}; its weights may have seen "
                    f"this run's test images or compute something else: train an ancestor "
                    f"with the same --dataset, --seed and --image_size (squish-train), or drop "
                    f"{flag}")


def is_recorded(model_path: str) -> bool:
  return os.path.isfile(model_path + ".json")
