"""What every data source returns, and the helpers that turn splits into training input.

A source returns `RawSplits`: uint8 image datasets per split and the class names. The
catalog (`squish_tf.data.catalog`) preprocesses them into `DataSplits`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE
SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class RawSplits:
  """What a source provides: uint8 image datasets per split, and the class names."""
  splits: dict  # split name -> tf.data.Dataset of (uint8 HxWxC image, int label)
  class_names: list
  sizes: dict  # split name -> number of examples


@dataclasses.dataclass(frozen=True)
class DataSplits:
  """Preprocessed, unbatched (image, label) datasets; see `batches` for training input."""
  train: tf.data.Dataset
  validation: tf.data.Dataset
  test: tf.data.Dataset
  class_names: list
  sizes: dict
  image_size: int

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  def split(self, name: str) -> tf.data.Dataset:
    return getattr(self, name)


def split_indices(n: int, seed: int, validation_fraction: float, test_fraction: float):
  """A fixed seeded permutation of range(n) cut into train/validation/test index arrays."""
  order = np.random.default_rng(seed).permutation(n)
  n_test = int(round(n * test_fraction))
  n_val = int(round(n * validation_fraction))
  return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


def in_memory(images: np.ndarray, labels: np.ndarray, parts: dict, class_names: list) -> RawSplits:
  """RawSplits of arrays held in memory: `parts` maps each split to its example indices."""
  return RawSplits(
      splits={k: tf.data.Dataset.from_tensor_slices((images[v], labels[v]))
              for k, v in parts.items()},
      class_names=list(class_names),
      sizes={k: len(v) for k, v in parts.items()})


def batches(ds: tf.data.Dataset, batch_size: int, shuffle_seed: int | None = None,
            cache: bool = False) -> tf.data.Dataset:
  """Optionally shuffled (seeded, reshuffled each epoch), batched and prefetched.

  Splits from `catalog.load` are cached once they have been read (preprocessing runs once
  per process); `cache` adds a cache for other datasets.
  """
  if cache:
    ds = ds.cache()
  if shuffle_seed is not None:
    ds = ds.shuffle(4096, seed=shuffle_seed, reshuffle_each_iteration=True)
  return ds.batch(batch_size).prefetch(AUTOTUNE)


def as_numpy(ds: tf.data.Dataset, limit: int | None = None):
  """(images, labels) arrays of an unbatched split, up to `limit` examples."""
  if limit is not None:
    ds = ds.take(limit)
  images, labels = [], []
  for x, y in ds.batch(256):
    images.append(x.numpy())
    labels.append(y.numpy())
  if not images:
    raise ValueError("the data split is empty")
  return np.concatenate(images), np.concatenate(labels)
