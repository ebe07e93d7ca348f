package org.squishtf.core;

/**
 * Affine int8 quantization as TFLite defines it: {@code real = scale * (q - zeroPoint)}. For an
 * int8 model, quantize the float input this core produces and dequantize the output before
 * {@link Scores}. The app takes scale and zero point from the model's tensors.
 */
public final class Quantization {
  public final float scale;
  public final int zeroPoint;

  public Quantization(float scale, int zeroPoint) {
    if (!(scale > 0) || Float.isInfinite(scale)) {
      throw new IllegalArgumentException("quantization scale must be a positive float, got " + scale);
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("int8 zero point must be in -128..127, got " + zeroPoint);
    }
    this.scale = scale;
    this.zeroPoint = zeroPoint;
  }

  /** q = clamp(round(x / scale) + zeroPoint), rounding halves away from zero as TFLite does. */
  public byte[] quantize(float[] x) {
    byte[] q = new byte[x.length];
    for (int i = 0; i < x.length; i++) {
      float v = x[i] / scale;
      long rounded = (long) (v < 0 ? -Math.floor(-v + 0.5f) : Math.floor(v + 0.5f));
      long value = Math.max(-128, Math.min(127, rounded + zeroPoint));
      q[i] = (byte) value;
    }
    return q;
  }

  public float[] dequantize(byte[] q) {
    float[] x = new float[q.length];
    for (int i = 0; i < q.length; i++) {
      x[i] = scale * (q[i] - zeroPoint);
    }
    return x;
  }
}
