package org.squishtf.core;

/**
 * ARGB pixels of any size to the model's float input, as {@code squish_tf.preprocess} does it:
 * the largest centred square ({@link CropGeometry#centreSquare}), bilinear resize with
 * half-pixel centres and no antialiasing (TensorFlow's {@code ResizeBilinear} in float32,
 * {@link BilinearAxis}), then {@code x = pixel * scale + offset}. Alpha is ignored. The output
 * is bit-for-bit TensorFlow's (the golden tests assert it). Camera frames take the cheaper
 * {@link FrameSampler}, which gives the same bits. Not thread-safe: it reuses its table.
 */
public final class Preprocessor {
  private final Contract contract;
  private final int size;
  private BilinearAxis axis;

  public Preprocessor(Contract contract) {
    this.contract = contract;
    this.size = contract.imageSize;
  }

  public Contract contract() {
    return contract;
  }

  /** A new input tensor (length {@code size * size * 3}) for the image. */
  public float[] process(int[] argb, int width, int height) {
    float[] out = new float[contract.inputLength()];
    process(argb, width, height, out);
    return out;
  }

  /** Writes the input tensor for the image into {@code out} (reused between frames). */
  public void process(int[] argb, int width, int height, float[] out) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException("image must be at least 1x1, got " + width + "x" + height);
    }
    if (argb.length < width * height) {
      throw new IllegalArgumentException("pixel array has " + argb.length + " entries, need "
          + width + "x" + height);
    }
    if (out.length != contract.inputLength()) {
      throw new IllegalArgumentException("output has " + out.length + " floats, need "
          + contract.inputLength());
    }
    PixelRect crop = CropGeometry.centreSquare(width, height);
    BilinearAxis t = axis(crop.width());
    int rShift = contract.bgr ? 0 : 16;  // channel 0 of the model's input
    int bShift = contract.bgr ? 16 : 0;  // channel 2
    float[] scale = contract.scale;
    float[] offset = contract.offset;
    int i = 0;
    for (int y = 0; y < size; y++) {
      int rowTop = (crop.top + t.lower[y]) * width + crop.left;
      int rowBottom = (crop.top + t.upper[y]) * width + crop.left;
      float dy = t.lerp[y];
      for (int x = 0; x < size; x++) {
        float dx = t.lerp[x];
        int tl = argb[rowTop + t.lower[x]];
        int tr = argb[rowTop + t.upper[x]];
        int bl = argb[rowBottom + t.lower[x]];
        int br = argb[rowBottom + t.upper[x]];
        out[i] = mix(tl, tr, bl, br, rShift, dx, dy) * scale[0] + offset[0];
        out[i + 1] = mix(tl, tr, bl, br, 8, dx, dy) * scale[1] + offset[1];
        out[i + 2] = mix(tl, tr, bl, br, bShift, dx, dy) * scale[2] + offset[2];
        i += 3;
      }
    }
  }

  private static float mix(int tl, int tr, int bl, int br, int shift, float dx, float dy) {
    return BilinearAxis.interpolate((tl >> shift) & 0xff, (tr >> shift) & 0xff,
        (bl >> shift) & 0xff, (br >> shift) & 0xff, dx, dy);
  }

  /** The crop is square, so one table serves both axes; cached while the crop size stays. */
  private BilinearAxis axis(int side) {
    if (axis == null || axis.inSize != side) {
      axis = new BilinearAxis(side, size);
    }
    return axis;
  }
}
