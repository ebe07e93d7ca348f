"""Everything that runs in the legacy-Keras (tf_keras) process, where tfmot works.

`worker` is the process protocol (both sides; the driver side runs in the Keras 3
process and imports no TensorFlow). `model` rebuilds a SqueezeNet spec under tf_keras with
the same layer names, so weights copy across by name. `qat_worker` does tfmot
quantization-aware training; `prune_worker` does tfmot magnitude pruning (a baseline).
Nothing in this package may be imported by a Keras 3 process except `worker`.
"""
