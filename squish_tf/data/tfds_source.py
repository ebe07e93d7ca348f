"""Any TensorFlow Datasets image-classification builder, by name (`imagenette/160px-v2`).

Splits, from the builder's own where it has them:
- train: its 'train' split, less whatever is carved from it below;
- validation: its 'validation' split if it also has a 'test' split; otherwise a seeded 10% of
  'train' (`base.split_indices`, so the same seed carves the same images);
- test: its 'test' split, else its 'validation' split, else another seeded 10% of 'train'.
A builder that is not prepared in `data_dir` is downloaded and prepared there first (TFDS's own
`download_and_prepare`); where that cannot happen, the error says how to prepare it elsewhere.
"""

from __future__ import annotations

import socket
import threading

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from squish_tf.data import base
from squish_tf.errors import UserError

CARVED_FRACTION = 0.1
_NAMES_HINT = ("use digits, fashion_mnist, mnist, imagenet10, folder:PATH, or a TensorFlow "
               "Datasets image-classification builder name such as imagenette/160px-v2")


def load(name: str, data_dir: str | None = None, seed: int = 0) -> base.RawSplits:
  """The TFDS builder `name` from `data_dir` (TFDS's default directory when None)."""
  builder = _builder(name, data_dir)
  check_image_classification(builder, name)
  prepare(builder, name)
  return from_builder(builder, seed)


def _builder(name: str, data_dir: str | None):
  try:
    return tfds.builder(name, data_dir=data_dir)
  except (ValueError, AssertionError) as e:  # DatasetNotFoundError, an unknown config; an
    # unknown version of a known name is an AssertionError in TFDS 4.9
    raise UserError(f"unknown data set {name!r} ({_first_line(e)}): {_NAMES_HINT}") from None


def check_image_classification(builder, name: str) -> None:
  """Raises UserError unless the builder has an uint8 HxWxC 'image' and a ClassLabel 'label'."""
  features = builder.info.features
  keys = sorted(features.keys()) if hasattr(features, "keys") else []
  image = features["image"] if "image" in keys else None
  label = features["label"] if "label" in keys else None
  if not (isinstance(image, tfds.features.Image) and len(image.shape) == 3
          and image.np_dtype == np.uint8 and isinstance(label, tfds.features.ClassLabel)):
    raise UserError(f"TFDS data set {name!r} is not image classification (features {keys}, "
                    f"needs an 'image' and a class 'label'): {_NAMES_HINT}")


# Where TFDS downloads from (prepared data sets and most source files); probed before a
# download, because without network TFDS retries for minutes before it fails.
DOWNLOAD_HOST = ("storage.googleapis.com", 443)
PROBE_SECONDS = 5.0


def network_problem(host: tuple = DOWNLOAD_HOST, timeout: float = PROBE_SECONDS) -> str | None:
  """Why `host` cannot be reached (name lookup or connection), or None when it can."""
  outcome = []

  def connect():
    try:
      socket.create_connection(host, timeout=timeout).close()
      outcome.append(None)
    except OSError as e:
      outcome.append(f"{host[0]}: {e.strerror or e}")

  # A name lookup has no timeout of its own: a daemon thread bounds the whole attempt and
  # cannot hold the process open if the lookup hangs.
  thread = threading.Thread(target=connect, daemon=True)
  thread.start()
  thread.join(timeout)
  return outcome[0] if outcome else f"no answer from {host[0]} within {timeout:g} s"


def needs_download(builder, download_config=None) -> bool:
  """TFDS's own catalog builders download their data (unless it is put there by hand)."""
  return (download_config is None and not builder.MANUAL_DOWNLOAD_INSTRUCTIONS
          and type(builder).__module__.startswith("tensorflow_datasets."))


def prepare(builder, name: str, download_config=None, fix: str | None = None) -> None:
  """Downloads and prepares `builder` unless it is prepared; failures become one UserError."""
  if builder.is_prepared():
    return
  if needs_download(builder, download_config):
    problem = network_problem()
    if problem:
      raise UserError(f"TFDS data set {name!r} is not prepared in {builder.data_dir_root} and "
                      f"needs a download, but the network cannot be reached ({problem}): run "
                      f"`tfds build {name} --data_dir=DIR` where it can, then pass "
                      f"--data_dir=DIR")
  try:
    builder.download_and_prepare(download_config=download_config)
  except UserError:
    raise
  except Exception as e:  # network, manual-download and archive errors all land here
    if fix is None and builder.MANUAL_DOWNLOAD_INSTRUCTIONS:
      fix = (f"put its manually downloaded files in {builder.data_dir_root}/downloads/manual "
             f"(see `tfds.builder({name!r}).MANUAL_DOWNLOAD_INSTRUCTIONS`), or pass --data_dir=DIR "
             f"where it is prepared")
    fix = fix or (f"run `tfds build {name} --data_dir=DIR` where the data can be downloaded, "
                  f"then pass --data_dir=DIR")
    raise UserError(f"TFDS data set {name!r} is not prepared in {builder.data_dir_root} and "
                    f"could not be prepared here ({type(e).__name__}: {_first_line(e)}): "
                    f"{fix}") from e


def from_builder(builder, seed: int) -> base.RawSplits:
  """RawSplits of a prepared builder, carving missing splits from 'train' as documented above."""
  own = {k: v.num_examples for k, v in builder.info.splits.items()}
  if "train" not in own:
    raise UserError(f"TFDS data set {builder.info.full_name!r} has no 'train' split "
                    f"(splits {sorted(own)}): {_NAMES_HINT}")
  has_val, has_test = "validation" in own, "test" in own
  fractions = {"validation": 0.0 if (has_val and has_test) else CARVED_FRACTION,
               "test": 0.0 if (has_val or has_test) else CARVED_FRACTION}
  parts = dict(zip(base.SPLITS, base.split_indices(own["train"], seed, fractions["validation"],
                                                    fractions["test"])))
  # Which split each 'train' example goes to, looked up by its position in 'train'.
  assignment = np.zeros(own["train"], np.int32)
  for code, split in enumerate(base.SPLITS):
    assignment[parts[split]] = code
  splits, sizes = {}, {}
  for code, split in enumerate(base.SPLITS):
    if split == "train" or fractions[split]:
      splits[split], sizes[split] = _carve(builder, assignment, code), len(parts[split])
    else:
      source = "test" if split == "test" and has_test else "validation"
      splits[split], sizes[split] = _read(builder, source), own[source]
  image = builder.info.features["image"]
  decoded = {k: ds.map(lambda ex: (image.decode_example(ex["image"]), ex["label"]),
                       num_parallel_calls=base.AUTOTUNE).prefetch(base.AUTOTUNE)
             for k, ds in splits.items()}
  return base.RawSplits(splits=decoded, class_names=list(builder.info.features["label"].names),
                        sizes=sizes)


def _read(builder, split: str) -> tf.data.Dataset:
  # Images stay encoded until after filtering, so carving does not decode discarded images.
  return builder.as_dataset(split=split, shuffle_files=False,
                            decoders={"image": tfds.decode.SkipDecoding()})


def _carve(builder, assignment: np.ndarray, code: int) -> tf.data.Dataset:
  table = tf.constant(assignment)
  return (_read(builder, "train").enumerate()
          .filter(lambda i, ex: tf.equal(tf.gather(table, i), code))
          .map(lambda i, ex: ex))


def _first_line(error: Exception) -> str:
  text = str(error).strip()
  return text.splitlines()[0].rstrip(":") if text else "no details"
