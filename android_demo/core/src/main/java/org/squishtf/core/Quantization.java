package org.squishtf.core;

/**
 * Affine int8 quantization with the parameters the model's contract carries (models.json),
 * computed exactly as squish_tf does it in NumPy so golden vectors agree to the bit:
 * {@code q = clamp(rint(x / scale) + zeroPoint, -128, 127)} with {@code x / scale} in float32
 * and {@code rint} rounding halves to even, and {@code real = scale * (q - zeroPoint)} in
 * float32. LiteRT's Kotlin API does not expose a tensor's scale and zero point, which is why
 * they come from the contract.
 */
public final class Quantization {
  public static final int MIN = -128;
  public static final int MAX = 127;

  public final float scale;
  public final int zeroPoint;

  public Quantization(float scale, int zeroPoint) {
    if (!(scale > 0) || Float.isInfinite(scale)) {
      throw new IllegalArgumentException("quantization scale must be a positive finite float, got "
          + scale);
    }
    if (zeroPoint < MIN || zeroPoint > MAX) {
      throw new IllegalArgumentException("int8 zero point must be in " + MIN + ".." + MAX + ", got "
          + zeroPoint);
    }
    this.scale = scale;
    this.zeroPoint = zeroPoint;
  }

  /** One value; NaN has no int8 code, so it is an error rather than a silent 0. */
  public byte quantize(float x) {
    float v = x / scale;  // float32 division, like NumPy's float32 array / scale
    if (Float.isNaN(v)) {
      throw new IllegalArgumentException("cannot quantize NaN (input " + x + ")");
    }
    double q = Math.rint(v) + zeroPoint;  // rint: halves to even, as np.rint / np.round
    return (byte) Math.max(MIN, Math.min(MAX, q));
  }

  /** Quantizes {@code x} into {@code out} (same length; reused between frames). */
  public void quantize(float[] x, byte[] out) {
    if (out.length != x.length) {
      throw new IllegalArgumentException("output has " + out.length + " bytes for " + x.length
          + " values");
    }
    for (int i = 0; i < x.length; i++) {
      out[i] = quantize(x[i]);
    }
  }

  public byte[] quantize(float[] x) {
    byte[] q = new byte[x.length];
    quantize(x, q);
    return q;
  }

  /** One value: {@code scale * (q - zeroPoint)} in float32 ({@code q - zeroPoint} is exact). */
  public float dequantize(byte q) {
    return scale * (float) (q - zeroPoint);
  }

  /** Dequantizes {@code q} into {@code out} (same length). */
  public void dequantize(byte[] q, float[] out) {
    if (out.length != q.length) {
      throw new IllegalArgumentException("output has " + out.length + " floats for " + q.length
          + " values");
    }
    for (int i = 0; i < q.length; i++) {
      out[i] = dequantize(q[i]);
    }
  }

  public float[] dequantize(byte[] q) {
    float[] x = new float[q.length];
    dequantize(q, x);
    return x;
  }

  @Override
  public String toString() {
    return "scale " + scale + ", zero point " + zeroPoint;
  }
}
