"""`digits`: scikit-learn's bundled 8x8 handwritten digits (1,797 images, offline; the default).

Pixels 0..16 are scaled to 0..255 uint8 and split 70/15/15 by a seeded permutation.
"""

from __future__ import annotations

import numpy as np

from squish_tf.data import base

VALIDATION_FRACTION = 0.15
TEST_FRACTION = 0.15


def load(seed: int = 0) -> base.RawSplits:
  from sklearn.datasets import load_digits  # bundled with scikit-learn: no download
  bunch = load_digits()
  images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
  labels = bunch.target.astype(np.int32)
  parts = dict(zip(base.SPLITS, base.split_indices(len(labels), seed, VALIDATION_FRACTION,
                                                    TEST_FRACTION)))
  return base.in_memory(images, labels, parts, [str(d) for d in range(10)])
