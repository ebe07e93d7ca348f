"""Evolution: the genetic encoding and the generations loop that turns it into SquishedNets.

Data flow of one generation (docs/evolutionary-synthesis.md):
  genome      draw an offspring's per-weight masks from its parent's weights (numpy only)
  surgery     squish the masked network into a smaller dense one (numpy only)
  masking     hold dead synapses at zero while the offspring fine-tunes (Keras)
  offspring   one offspring from plain data: draw, squish, fine-tune, validate
  executors   where offspring run: here, in a recycled child process, or as Ray tasks
  selection   which offspring becomes the next parent
  opening     a run directory opened, or checked for a resume (before TensorFlow starts)
  loop        the generations, saved one by one into a run directory
"""
