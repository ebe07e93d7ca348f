"""The network: SqueezeNet v1.1's topology as plain data (`arch`) and its Keras builder (`model`).

`arch` is Keras-free arithmetic on architecture specs ({conv layer: filters}): producers and
consumers of each layer, parameter and MAC counts. `graph` writes the functional graph once
for any Keras module; `model` builds it with Keras 3 for the ancestor or any squished spec,
with stable layer names and seeded initializers.
"""
