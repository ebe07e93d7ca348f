package org.squishtf.core;

/**
 * One axis of TensorFlow's bilinear resize with half-pixel centres and no antialiasing
 * ({@code ResizeBilinear}, {@code half_pixel_centers=True}), in its float32 arithmetic: for
 * each output index the two source indices it reads and the weight of the upper one. Both
 * preprocessing paths ({@link Preprocessor}, {@link FrameSampler}) use this one table and
 * {@link #interpolate}, so they produce the same bits.
 */
final class BilinearAxis {
  final int inSize;
  final int[] lower;
  final int[] upper;
  final float[] lerp;

  BilinearAxis(int inSize, int outSize) {
    if (inSize < 1 || outSize < 1) {
      throw new IllegalArgumentException("resize needs sizes >= 1, got " + inSize + " -> "
          + outSize);
    }
    this.inSize = inSize;
    lower = new int[outSize];
    upper = new int[outSize];
    lerp = new float[outSize];
    float scale = (float) inSize / (float) outSize;
    for (int o = 0; o < outSize; o++) {
      float in = ((float) o + 0.5f) * scale - 0.5f;  // half-pixel centres, in float32
      float inFloor = (float) Math.floor(in);
      lower[o] = Math.max((int) inFloor, 0);
      upper[o] = Math.min((int) Math.ceil(in), inSize - 1);
      lerp[o] = in - inFloor;
    }
  }

  /** TensorFlow's order of operations: lerp along x on both rows, then along y. */
  static float interpolate(float topLeft, float topRight, float bottomLeft, float bottomRight,
                           float dx, float dy) {
    float top = topLeft + (topRight - topLeft) * dx;
    float bottom = bottomLeft + (bottomRight - bottomLeft) * dx;
    return top + (bottom - top) * dy;
  }
}
