package org.squishtf.core;

import java.util.Arrays;

/**
 * What models.json says about one input or output tensor of a model file: name, shape, dtype
 * and, for int8, the quantization parameters. LiteRT's Kotlin API does not expose scale and
 * zero point, so an int8 model runs with these.
 */
public final class TensorSpec {
  public static final String FLOAT32 = "float32";
  public static final String INT8 = "int8";

  /** The tensor's name in the model's signature. */
  public final String name;
  private final int[] shape;
  public final String dtype;
  /** Present exactly when {@link #dtype} is int8. */
  public final Quantization quantization;

  public TensorSpec(String name, int[] shape, String dtype, Quantization quantization) {
    if (INT8.equals(dtype) != (quantization != null)) {
      throw new IllegalArgumentException("an int8 tensor needs quantization parameters and only"
          + " an int8 tensor has them; got dtype " + dtype + " with " + quantization);
    }
    this.name = name;
    this.shape = shape.clone();
    this.dtype = dtype;
    this.quantization = quantization;
  }

  public int[] shape() {
    return shape.clone();
  }

  public boolean isInt8() {
    return INT8.equals(dtype);
  }

  /** Parses {"name", "shape", "dtype", "scale"?, "zero_point"?}; int8 requires the last two. */
  static TensorSpec parse(Object json, String where) {
    JsonFields f = new JsonFields(json, where);
    String name = f.string("name");
    int[] shape = f.intList("shape", -1, Integer.MAX_VALUE);
    String dtype = f.string("dtype");
    Quantization q = null;
    if (INT8.equals(dtype)) {
      double scale = f.number("scale");
      long zero = f.integer("zero_point", Quantization.MIN, Quantization.MAX);
      float s = (float) scale;  // the writer prints the float32 value, so this is exact
      if (!(s > 0) || Float.isInfinite(s)) {
        throw JsonFields.fail(where + ".scale must be a positive float32, got " + scale);
      }
      q = new Quantization(s, (int) zero);
    }
    return new TensorSpec(name, shape, dtype, q);
  }

  @Override
  public String toString() {
    return name + " " + Arrays.toString(shape) + " " + dtype
        + (quantization == null ? "" : " (" + quantization + ")");
  }
}
