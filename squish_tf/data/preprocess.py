"""The preprocessing contract: one function, written down as JSON for exports and the app.

A model's input is float32 NHWC RGB. An image of any size becomes that input by:
1. cropping the largest centred square (offsets `(h - s) // 2`, `(w - s) // 2`);
2. resizing it to `image_size` with bilinear interpolation, half-pixel centres, no
   antialiasing (what `tf.image.resize(..., "bilinear")` does);
3. `x = pixel * scale + offset` per channel, pixels 0..255 in R, G, B order.
Grey images are repeated to three channels first. The model ends in a softmax.
"""

from __future__ import annotations

import tensorflow as tf

CONTRACT_FORMAT = "squish_tf.preprocess/1"
SCALE = 1.0 / 255.0
OFFSET = 0.0


def contract(image_size: int) -> dict:
  """The JSON-serialisable contract for a model trained at `image_size`."""
  return {
      "format": CONTRACT_FORMAT,
      "image_size": int(image_size),
      "crop": "center_square",
      "resize": "bilinear_half_pixel",
      "channel_order": "RGB",
      "layout": "NHWC",
      "dtype": "float32",
      "scale": SCALE,
      "offset": OFFSET,
      "output": "probabilities",
  }


def preprocess(image: tf.Tensor, image_size: int) -> tf.Tensor:
  """uint8 (or float 0..255) HxWx{1,3} image -> float32 image_size x image_size x 3 input."""
  image = tf.convert_to_tensor(image)
  if image.shape.rank != 3:
    raise ValueError(f"expected an HxWxC image, got shape {image.shape}")
  if image.shape[-1] == 1:
    image = tf.repeat(image, 3, axis=-1)
  height, width = tf.shape(image)[0], tf.shape(image)[1]
  side = tf.minimum(height, width)
  image = tf.image.crop_to_bounding_box(image, (height - side) // 2, (width - side) // 2,
                                        side, side)
  image = tf.image.resize(tf.cast(image, tf.float32), (image_size, image_size),
                          method="bilinear", antialias=False)
  return image * SCALE + OFFSET
