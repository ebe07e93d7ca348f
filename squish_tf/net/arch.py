"""SqueezeNet v1.1 topology as plain data: layer names, filters, producers, counts.

No Keras here: the genome, the squish surgery and the reports reason about the
network through this module, and the Keras builder (`squish_tf.net.model`) builds
exactly what it describes. An architecture *spec* is a dict {conv layer: filters}.
"""

from __future__ import annotations

# (fire id, squeeze, expand1x1, expand3x3) for SqueezeNet v1.1.
_FIRES = ((2, 16, 64, 64), (3, 16, 64, 64), (4, 32, 128, 128), (5, 32, 128, 128),
          (6, 48, 192, 192), (7, 48, 192, 192), (8, 64, 256, 256), (9, 64, 256, 256))
# Max-pools (3x3, stride 2, valid) follow these layers.
POOL_AFTER = {"conv1": "pool1", "fire3": "pool3", "fire5": "pool5"}
FIRE_IDS = tuple(f[0] for f in _FIRES)
HEAD = "conv10"
MIN_IMAGE_SIZE = 32


def fire_layers(fire_id: int) -> tuple[str, str, str]:
  return (f"fire{fire_id}_squeeze1x1", f"fire{fire_id}_expand1x1", f"fire{fire_id}_expand3x3")


CONV_LAYERS: tuple[str, ...] = ("conv1",) + tuple(
    name for fid in FIRE_IDS for name in fire_layers(fid)) + (HEAD,)

KERNEL_SIZE = {name: 3 if name == "conv1" or name.endswith("expand3x3") else 1
               for name in CONV_LAYERS}


def ancestor_spec(num_classes: int = 10) -> dict[str, int]:
  """Filters per conv layer of SqueezeNet v1.1 with a `num_classes` conv10."""
  if not isinstance(num_classes, int) or num_classes < 2:
    raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
  spec = {"conv1": 64}
  for fid, s, e1, e3 in _FIRES:
    sq, x1, x3 = fire_layers(fid)
    spec.update({sq: s, x1: e1, x3: e3})
  spec[HEAD] = num_classes
  return spec


def producers(layer: str) -> tuple[str, ...]:
  """Conv layers whose outputs, concatenated in this order, feed `layer`.

  Max-pool and dropout pass channels through, so they do not appear. An empty
  tuple means the layer reads the RGB image.
  """
  if layer == "conv1":
    return ()
  if layer == HEAD:
    return fire_layers(FIRE_IDS[-1])[1:]
  fid = int(layer[4:layer.index("_")])
  if layer.endswith("squeeze1x1"):
    return ("conv1",) if fid == FIRE_IDS[0] else fire_layers(fid - 1)[1:]
  return (fire_layers(fid)[0],)


def consumers(layer: str) -> tuple[str, ...]:
  return tuple(c for c in CONV_LAYERS if layer in producers(c))


def input_slices(spec: dict[str, int], layer: str) -> dict[str, slice]:
  """Which input channels of `layer` come from each producer (their concatenation order)."""
  slices, start = {}, 0
  for producer in producers(layer):
    slices[producer] = slice(start, start + spec[producer])
    start += spec[producer]
  return slices


def input_channels(spec: dict[str, int], layer: str) -> int:
  return sum(spec[p] for p in producers(layer)) if producers(layer) else 3


def kernel_shape(spec: dict[str, int], layer: str) -> tuple[int, int, int, int]:
  k = KERNEL_SIZE[layer]
  return (k, k, input_channels(spec, layer), spec[layer])


def inert_taps(image_size: int) -> tuple[str, ...]:
  """The 3x3 layers that read a 1x1 input at `image_size` (fire6-9 below 47 pixels).

  Their "same" padding puts zeros under eight of the nine taps, so only the centre tap ever
  multiplies an activation: the other eight get no gradient and change no output, yet a
  dense file stores them. Folded to 1x1 (`squish_tf.net.model.folded`) the network computes
  the same function at this size, and at this size only.
  """
  sizes = output_sizes(image_size)
  return tuple(n for n in CONV_LAYERS
               if n.endswith("expand3x3") and KERNEL_SIZE[n] == 3 and sizes[n] == 1)


def inert_params(spec: dict[str, int], image_size: int) -> int:
  """Weights of `spec` that can never change an output at `image_size` (`inert_taps`)."""
  total = 0
  for layer in inert_taps(image_size):
    kh, kw, cin, cout = kernel_shape(spec, layer)
    total += (kh * kw - 1) * cin * cout
  return total


def validate_spec(spec: dict[str, int], num_classes: int | None = None) -> dict[str, int]:
  """Returns `spec` as a plain ordered dict, or raises ValueError naming the problem."""
  missing = [n for n in CONV_LAYERS if n not in spec]
  unknown = [n for n in spec if n not in CONV_LAYERS]
  if missing or unknown:
    raise ValueError(f"architecture spec is missing layers {missing} / has unknown layers "
                     f"{unknown}; expected exactly {list(CONV_LAYERS)}")
  bad = {n: spec[n] for n in CONV_LAYERS if not isinstance(spec[n], int) or spec[n] < 1}
  if bad:
    raise ValueError(f"every layer needs a positive integer filter count, got {bad}")
  if num_classes is not None and spec[HEAD] != num_classes:
    raise ValueError(f"spec has {spec[HEAD]} conv10 filters but num_classes={num_classes}")
  return {n: int(spec[n]) for n in CONV_LAYERS}


def param_count(spec: dict[str, int]) -> int:
  """Weights plus biases of the dense network the spec describes."""
  total = 0
  for layer in CONV_LAYERS:
    kh, kw, cin, cout = kernel_shape(spec, layer)
    total += kh * kw * cin * cout + cout
  return total


def output_sizes(image_size: int) -> dict[str, int]:
  """Spatial side of each conv layer's output for a square input of `image_size`."""
  if image_size < MIN_IMAGE_SIZE:
    raise ValueError(f"image size must be at least {MIN_IMAGE_SIZE}, got {image_size}")
  pool = lambda s: (s - 3) // 2 + 1
  side = (image_size - 3) // 2 + 1  # conv1: 3x3, stride 2, valid
  sizes = {"conv1": side}
  side = pool(side)
  for fid in FIRE_IDS:
    for name in fire_layers(fid):
      sizes[name] = side
    if f"fire{fid}" in POOL_AFTER:
      side = pool(side)
  sizes[HEAD] = side
  return sizes


def macs(spec: dict[str, int], image_size: int, alive_weights: dict[str, int] | None = None) -> int:
  """Multiply-accumulates of one image; with `alive_weights`, counting only alive synapses."""
  sizes = output_sizes(image_size)
  total = 0
  for layer in CONV_LAYERS:
    kh, kw, cin, cout = kernel_shape(spec, layer)
    weights = kh * kw * cin * cout if alive_weights is None else alive_weights[layer]
    total += weights * sizes[layer] ** 2
  return total


def filter_macs(spec: dict[str, int], image_size: int) -> dict[str, int]:
  """MACs one filter of each layer costs per image: its own kernel over its output, plus
  the weights that read its channel in every consumer (removing the filter saves both)."""
  sizes = output_sizes(image_size)
  out = {}
  for layer in CONV_LAYERS:
    kh, kw, cin, _ = kernel_shape(spec, layer)
    reads = sum(KERNEL_SIZE[c] ** 2 * spec[c] * sizes[c] ** 2 for c in consumers(layer))
    out[layer] = kh * kw * cin * sizes[layer] ** 2 + reads
  return out
