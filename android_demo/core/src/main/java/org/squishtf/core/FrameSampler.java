package org.squishtf.core;

import java.nio.ByteBuffer;

/**
 * A camera frame straight to the model's float input, reading only the pixels the model needs.
 * A bilinear resize without antialiasing reads just the 2x2 source pixels around each sample
 * point, so instead of unpacking and rotating the whole frame ({@link Frames}, then
 * {@link Preprocessor}) this reads at most {@code 4 * size * size} pixels of the centred square
 * of the upright frame directly from the RGBA plane. Same tables, same float32 arithmetic in
 * the same order as {@link Preprocessor}: the output is bit-for-bit the same (tested).
 * Not thread-safe: it reuses its tables between frames.
 */
public final class FrameSampler {
  private final Contract contract;
  private final int size;
  /** Byte offset within a pixel of the model's channels 0, 1, 2 (R=0, G=1, B=2 in RGBA). */
  private final int[] channelByte;
  private final int[] columnLower;
  private final int[] columnUpper;
  private final int[] rowLower;
  private final int[] rowUpper;
  private BilinearAxis axis;

  public FrameSampler(Contract contract) {
    this.contract = contract;
    this.size = contract.imageSize;
    this.channelByte = contract.bgr ? new int[] {2, 1, 0} : new int[] {0, 1, 2};
    columnLower = new int[size];
    columnUpper = new int[size];
    rowLower = new int[size];
    rowUpper = new int[size];
  }

  public Contract contract() {
    return contract;
  }

  /** A new input tensor (length {@code size * size * 3}) for the frame. */
  public float[] sample(RgbaFrame frame) {
    float[] out = new float[contract.inputLength()];
    sample(frame, out);
    return out;
  }

  /** Writes the input tensor for the frame into {@code out} (reused between frames). */
  public void sample(RgbaFrame frame, float[] out) {
    if (out.length != contract.inputLength()) {
      throw new IllegalArgumentException("output has " + out.length + " floats, need "
          + contract.inputLength());
    }
    PixelRect crop = CropGeometry.centreSquare(frame.uprightWidth(), frame.uprightHeight());
    BilinearAxis t = axis(crop.width());
    for (int o = 0; o < size; o++) {
      columnLower[o] = frame.columnOffset(crop.left + t.lower[o]);
      columnUpper[o] = frame.columnOffset(crop.left + t.upper[o]);
      rowLower[o] = frame.base() + frame.rowOffset(crop.top + t.lower[o]);
      rowUpper[o] = frame.base() + frame.rowOffset(crop.top + t.upper[o]);
    }
    ByteBuffer b = frame.buffer;
    float[] scale = contract.scale;
    float[] offset = contract.offset;
    int i = 0;
    for (int y = 0; y < size; y++) {
      int top = rowLower[y];
      int bottom = rowUpper[y];
      float dy = t.lerp[y];
      for (int x = 0; x < size; x++) {
        int tl = top + columnLower[x];
        int tr = top + columnUpper[x];
        int bl = bottom + columnLower[x];
        int br = bottom + columnUpper[x];
        float dx = t.lerp[x];
        for (int c = 0; c < 3; c++) {
          int k = channelByte[c];
          float v = BilinearAxis.interpolate(b.get(tl + k) & 0xff, b.get(tr + k) & 0xff,
              b.get(bl + k) & 0xff, b.get(br + k) & 0xff, dx, dy);
          out[i + c] = v * scale[c] + offset[c];
        }
        i += 3;
      }
    }
  }

  private BilinearAxis axis(int side) {
    if (axis == null || axis.inSize != side) {
      axis = new BilinearAxis(side, size);
    }
    return axis;
  }
}
