"""Command-line entry points (absl): each reads its flags and calls one library function.

squish-train (train), squish-evolve (evolve), squish-report (report), squish-bench (bench),
squish-export (export), squish-golden (golden); `common` holds what they share.
"""
