"""Benchmarks of model files: LiteRT interpreter throughput and latency side by side
(`litert_bench`), TensorRT engines and SavedModels on an NVIDIA GPU (`gpu`), what
`squish-bench` dispatches to (`any_model`), and the timing statistics they share (`timing`).
"""
