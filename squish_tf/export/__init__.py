"""Exports: every format goes through one convert -> check against Keras -> write path (`verify`).

  litert          float32 .tflite, converted from Keras
  runtime         LiteRT inference for any .tflite, float or quantized (no TensorFlow import)
  int8            post-training full-integer .tflite
  qat             quantization-aware training (tfmot, in a legacy-Keras process) -> int8
  saved_model     serving SavedModel (signature `serving_default`: image -> probabilities)
  onnx_export     ONNX through tf2onnx, checked with onnxruntime
  tensorrt_build  TF-TRT conversion, engine builds and the Jetson build script
  cuda            the NVIDIA GPU through the CUDA runtime library
  generation      one generation of a run in any of these formats (squish-export)
"""
