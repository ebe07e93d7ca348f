package org.squishtf.core;

import java.util.Arrays;
import java.util.List;

/**
 * The full check of a loaded model's tensors against its contract, done once at load so a
 * wrong model fails with a message instead of feeding or reading the wrong numbers. The input
 * must be {@code [1, S, S, 3]} with S the image_size of preprocess.json, the output
 * {@code [1, number of labels]}, and both must have the dtype models.json declares (float32 or
 * int8; int8 with its quantization parameters). Each message names the dimension or dtype,
 * what is expected and what the model has.
 */
public final class TensorCheck {
  /** The dtypes this app can feed and read. */
  public static final List<String> SUPPORTED_DTYPES = List.of(TensorSpec.FLOAT32, TensorSpec.INT8);
  private static final String[] INPUT_DIMS = {"batch", "height", "width", "channels"};
  private static final String[] OUTPUT_DIMS = {"batch", "classes"};

  private TensorCheck() {}

  /**
   * Checks the model's input tensor ({@code shape}, {@code dtype} as LiteRT reports them, dtype
   * names as in models.json) against the contract.
   */
  public static void input(int[] shape, String dtype, int imageSize, TensorSpec declared) {
    int[] expected = {1, imageSize, imageSize, 3};
    check("input", shape, dtype, expected, INPUT_DIMS, declared,
        "image_size " + imageSize + " in preprocess.json");
  }

  /** Checks the model's output tensor against the number of labels in labels.txt. */
  public static void output(int[] shape, String dtype, int numLabels, TensorSpec declared) {
    int[] expected = {1, numLabels};
    check("output", shape, dtype, expected, OUTPUT_DIMS, declared,
        numLabels + " labels in labels.txt");
  }

  private static void check(String which, int[] shape, String dtype, int[] expected,
                            String[] dimNames, TensorSpec declared, String source) {
    if (!SUPPORTED_DTYPES.contains(declared.dtype)) {
      throw new TensorMismatchException("models.json declares " + which + " dtype "
          + declared.dtype + "; this app runs " + SUPPORTED_DTYPES + " tensors (export int8 models"
          + " with int8 input and output)");
    }
    if (!declared.dtype.equals(dtype)) {
      throw new TensorMismatchException("model " + which + " dtype is " + dtype
          + " but models.json says " + declared.dtype + "; re-publish the model with squish-report");
    }
    if (shape.length != expected.length) {
      throw new TensorMismatchException("model " + which + " has rank " + shape.length
          + " (shape " + Arrays.toString(shape) + "), expected rank " + expected.length + " "
          + Arrays.toString(expected) + " for " + source);
    }
    for (int d = 0; d < expected.length; d++) {
      if (shape[d] != expected[d]) {
        throw new TensorMismatchException("model " + which + " dimension " + d + " ("
            + dimNames[d] + ") is " + shape[d] + ", expected " + expected[d] + ": shape "
            + Arrays.toString(shape) + ", expected " + Arrays.toString(expected) + " for "
            + source);
      }
    }
    if (!Arrays.equals(declared.shape(), expected)) {
      throw new TensorMismatchException("models.json says " + which + " shape "
          + Arrays.toString(declared.shape()) + " but " + source + " means "
          + Arrays.toString(expected) + "; publish the model, its preprocess.json and labels.txt"
          + " together");
    }
  }
}
