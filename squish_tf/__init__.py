"""squish_tf: SquishedNets by evolutionary synthesis of SqueezeNet v1.1, shipped as TFLite."""

__version__ = "0.1.0"
