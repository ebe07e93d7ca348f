"""The legacy-Keras process behind `squish_tf.export.qat`:
`python -m squish_tf.legacy.qat_worker WORKDIR`.

tfmot 0.8.1 only wraps tf_keras models, so this process selects legacy Keras before
TensorFlow is first imported (in `main`, not at import time), rebuilds the network from
its spec, copies the weights by layer name and checks that it predicts what the Keras 3
network predicted. Then, by the request's `task`:
- `predict`: writes the rebuilt network's predictions (the rebuild test uses it);
- `qat`: measures post-training int8 as a baseline, fine-tunes with tfmot's
  quantization-aware training (pruning-preserving when the masks have dead synapses),
  converts to int8, verifies and writes the .tflite with its figures.

WORKDIR holds request.json, weights.npz (`<layer>.kernel`, `<layer>.bias`), masks.npz
(by layer, optional) and data.npz, written by `squish_tf.export.qat`; it answers as
`squish_tf.legacy.worker` says.
"""

from __future__ import annotations

import os
import sys
import time

from squish_tf.legacy import worker

def _dataset(request: dict, arrays: dict) -> dict:
  """Train/validation arrays: sent by the driver, or loaded here from dataset arguments."""
  if "train_images" in arrays:
    return arrays
  from squish_tf import data
  args = request["dataset"]
  splits = data.load(args["name"], request["image_size"], args.get("data_dir"), args["seed"])
  train_x, train_y = data.as_numpy(splits.train, args.get("train_limit"))
  val_x, val_y = data.as_numpy(splits.validation, args.get("val_limit"))
  return {"train_images": train_x, "train_labels": train_y, "val_images": val_x,
          "val_labels": val_y}


def _prune_preserving_conv_config():
  """A Conv2D QuantizeConfig whose weight quantizer keeps the kernel's zeros at zero.

  tfmot's Default8BitPrunePreserveQuantizeScheme alone misses every conv that feeds a
  Concatenate: its ConcatTransform gives those layers the plain default config (checked
  on tfmot 0.8.1), and in SqueezeNet that is every expand layer. So every conv is
  annotated with this config instead. It is a named class (not an instance with a
  swapped quantizer) because quantize_apply clones the model through get_config.
  """
  import importlib
  keras_quant = "tensorflow_model_optimization.python.core.quantization.keras"
  pp = importlib.import_module(
      f"{keras_quant}.collab_opts.prune_preserve.prune_preserve_quantize_registry")
  d8 = importlib.import_module(f"{keras_quant}.default_8bit.default_8bit_quantize_registry")

  class PrunePreservingConvConfig(d8.Default8BitConvQuantizeConfig):

    def __init__(self, weight_attrs, activation_attrs, quantize_output):
      super().__init__(weight_attrs, activation_attrs, quantize_output)
      # Multiplies the kernel by its sparsity pattern (read from its zeros when the
      # wrapper is built) before fake-quantizing it: a dead synapse gets no gradient.
      self.weight_quantizer = pp.PrunePreserveDefault8BitConvWeightsQuantizer()

  return PrunePreservingConvConfig


def _quantize_aware(net, prune_preserve: bool):
  """The tfmot QAT model of `net` (8-bit default scheme, optionally sparsity-preserving)."""
  import tensorflow_model_optimization as tfmot
  import tf_keras
  quant = tfmot.quantization.keras
  if not prune_preserve:
    return quant.quantize_model(net)
  config_class = _prune_preserving_conv_config()
  registry = quant.default_8bit.Default8BitQuantizeScheme().get_quantize_registry()

  def annotate(layer):
    if isinstance(layer, tf_keras.layers.Conv2D):
      config = registry.get_quantize_config(layer).get_config()
      return quant.quantize_annotate_layer(layer, config_class(**config))
    return layer

  annotated = tf_keras.models.clone_model(net, clone_function=annotate)  # shares the layers
  with quant.quantize_scope({config_class.__name__: config_class}):
    return quant.quantize_apply(annotated,
                                quant.collab_opts.Default8BitPrunePreserveQuantizeScheme())


def _conv_variables(qat_model) -> dict:
  """{conv layer: {"kernel": variable, "bias": variable}} inside the quantize wrappers.

  A QuantizeWrapper swaps its layer's `kernel` attribute for the fake-quantized tensor,
  so the variables are found among the wrapper's weights by name.
  """
  from squish_tf.net import arch
  out = {}
  for layer in qat_model.layers:
    inner = getattr(layer, "layer", layer)
    if inner.name in arch.CONV_LAYERS:
      out[inner.name] = {part: v for v in layer.weights for part in ("kernel", "bias")
                         if v.name.split("/")[-1].split(":")[0] == part}
  return out


def _fine_tune(qat_model, request: dict, ds: dict, masks: dict | None):
  import numpy as np
  import tf_keras

  from squish_tf.evolve.genome import alive_filters
  convs = _conv_variables(qat_model)
  dead_biases = {}
  if masks is not None:
    dead_biases = {name: alive_filters(m).astype(np.float32) for name, m in masks.items()
                   if not alive_filters(m).all()}

  class KeepDeadBiasesZero(tf_keras.callbacks.Callback):
    """tfmot preserves kernel sparsity only; a dead filter's bias must stay 0 as well."""

    def on_train_batch_end(self, batch, logs=None):
      for name, mask in dead_biases.items():
        bias = convs[name]["bias"]
        bias.assign(bias * mask)

  steps = -(-len(ds["train_labels"]) // request["batch_size"]) * request["epochs"]
  schedule = tf_keras.optimizers.schedules.CosineDecay(request["learning_rate"], max(steps, 1))
  qat_model.compile(optimizer=tf_keras.optimizers.Adam(schedule),
                    loss="sparse_categorical_crossentropy", metrics=["accuracy"])
  qat_model.fit(ds["train_images"], ds["train_labels"], batch_size=request["batch_size"],
                epochs=request["epochs"], shuffle=True, verbose=0,
                callbacks=[KeepDeadBiasesZero()] if dead_biases else [])


def _masked_nonzero(qat_model, masks: dict | None) -> int:
  """Dead synapses whose trained kernel value is not exactly zero (0 when sparsity held)."""
  if masks is None:
    return 0
  import numpy as np
  convs = _conv_variables(qat_model)
  return int(sum(np.count_nonzero(convs[n]["kernel"].numpy()[~m]) for n, m in masks.items()))


def _qat(request: dict, net, masks: dict | None, arrays: dict) -> dict:
  import tf_keras

  from squish_tf.export import int8 as quantize
  tf_keras.utils.set_random_seed(request["seed"])
  ds = _dataset(request, arrays)
  rep = ds["train_images"][:request["representative_images"]]
  val_x, val_y = ds["val_images"], ds["val_labels"]
  figures = {"prune_preserve": bool(request["prune_preserve"]), "epochs": request["epochs"],
             "train_images": int(len(ds["train_labels"])), "io_dtype": request["io_dtype"]}
  start = time.perf_counter()
  ptq = quantize.verify_int8(quantize.convert_int8(net, rep, request["io_dtype"]), net, val_x,
                             val_y)
  figures.update(top1_float_start=ptq["top1_float"], top1_ptq_int8=ptq["top1_int8"],
                 ptq_agreement=ptq["agreement"], ptq_bytes=ptq["bytes"],
                 ptq_seconds=round(time.perf_counter() - start, 2))
  start = time.perf_counter()
  qat_model = _quantize_aware(net, request["prune_preserve"])
  _fine_tune(qat_model, request, ds, masks)
  figures["qat_seconds"] = round(time.perf_counter() - start, 2)
  figures["masked_weights"] = int(sum((~m).sum() for m in masks.values())) if masks else 0
  figures["masked_nonzero_after_qat"] = _masked_nonzero(qat_model, masks)
  data = quantize.convert_int8(qat_model, rep, request["io_dtype"])
  checked = quantize.verify_int8(data, qat_model, val_x, val_y)
  # verify_int8 compares with the model it is given: here the QAT model, whose fake-quant
  # forward pass is what the int8 file should reproduce.
  figures.update(top1_qat_keras=checked.pop("top1_float"), top1_qat_int8=checked.pop("top1_int8"),
                 **checked, **request.get("about", {}))
  return quantize.write_verified(data, figures, request["out_path"], request["min_agreement"])


def _require_legacy_keras() -> None:
  from squish_tf import config
  config.require_modules(config.LEGACY_KERAS_MODULES, "tfmot", "quantization-aware training")


def run(workdir: str) -> dict:
  """Does the request in `workdir`; returns what goes into result.json."""
  _require_legacy_keras()
  from squish_tf.legacy import model as legacy_model
  request, weights, masks, arrays = worker.read_inputs(workdir)
  net = legacy_model.rebuild(request, weights, masks)
  rebuild_diff = legacy_model.check_rebuild(net, arrays["check_images"], arrays["check_probs"])
  if request["task"] == "predict":
    import numpy as np
    np.save(os.path.join(workdir, "predictions.npy"),
            net.predict(arrays["images"], batch_size=64, verbose=0))
    return {"rebuild_max_abs_diff": rebuild_diff}
  if request["task"] == "qat":
    return {**_qat(request, net, masks, arrays), "rebuild_max_abs_diff": rebuild_diff}
  raise ValueError(f"unknown task {request['task']!r}")


def main(argv: list[str]) -> int:
  return worker.serve(argv, "python -m squish_tf.legacy.qat_worker", run)


if __name__ == "__main__":
  sys.exit(main(sys.argv))
