package org.squishtf.core;

/**
 * ARGB pixels of any size to the model's float input, as {@code squish_tf.preprocess} does it:
 * the largest centred square (offsets {@code (h - s) / 2}, {@code (w - s) / 2}), bilinear resize
 * with half-pixel centres and no antialiasing (TensorFlow's {@code ResizeBilinear} with
 * {@code half_pixel_centers=True}, in float32), then {@code x = pixel * scale + offset}.
 * Alpha is ignored. Not thread-safe: it reuses its interpolation tables between frames.
 */
public final class Preprocessor {
  private final Contract contract;
  private final int size;
  private int cachedSide = -1;
  private int[] lower;
  private int[] upper;
  private float[] lerp;

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
    int side = Math.min(width, height);
    int top = (height - side) / 2;
    int left = (width - side) / 2;
    tables(side);
    int rShift = contract.bgr ? 0 : 16;  // channel 0 of the model's input
    int bShift = contract.bgr ? 16 : 0;  // channel 2
    float[] scale = contract.scale;
    float[] offset = contract.offset;
    int i = 0;
    for (int y = 0; y < size; y++) {
      int rowTop = (top + lower[y]) * width + left;
      int rowBottom = (top + upper[y]) * width + left;
      float dy = lerp[y];
      for (int x = 0; x < size; x++) {
        int xl = lower[x];
        int xu = upper[x];
        float dx = lerp[x];
        int tl = argb[rowTop + xl];
        int tr = argb[rowTop + xu];
        int bl = argb[rowBottom + xl];
        int br = argb[rowBottom + xu];
        out[i] = mix(tl, tr, bl, br, rShift, dx, dy) * scale[0] + offset[0];
        out[i + 1] = mix(tl, tr, bl, br, 8, dx, dy) * scale[1] + offset[1];
        out[i + 2] = mix(tl, tr, bl, br, bShift, dx, dy) * scale[2] + offset[2];
        i += 3;
      }
    }
  }

  /** TensorFlow's order of operations: lerp along x on both rows, then along y. */
  private static float mix(int tl, int tr, int bl, int br, int shift, float dx, float dy) {
    float a = (tl >> shift) & 0xff;
    float b = (tr >> shift) & 0xff;
    float c = (bl >> shift) & 0xff;
    float d = (br >> shift) & 0xff;
    float topRow = a + (b - a) * dx;
    float bottomRow = c + (d - c) * dx;
    return topRow + (bottomRow - topRow) * dy;
  }

  /** Source rows/columns and weights for each output index; the crop is square, so one table. */
  private void tables(int side) {
    if (side == cachedSide) {
      return;
    }
    lower = new int[size];
    upper = new int[size];
    lerp = new float[size];
    float scale = (float) side / (float) size;
    for (int o = 0; o < size; o++) {
      float in = ((float) o + 0.5f) * scale - 0.5f;  // half-pixel centres, in float32
      float inFloor = (float) Math.floor(in);
      lower[o] = Math.max((int) inFloor, 0);
      upper[o] = Math.min((int) Math.ceil(in), side - 1);
      lerp[o] = in - inFloor;
    }
    cachedSide = side;
  }
}
