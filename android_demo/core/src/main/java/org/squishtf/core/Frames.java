package org.squishtf.core;

import java.nio.ByteBuffer;

/**
 * Camera frames to upright ARGB pixels. CameraX's RGBA_8888 analysis output is one plane of
 * R, G, B, A bytes whose rows may be padded ({@code rowStride >= width * 4}); the frame must be
 * rotated clockwise by the reported {@code rotationDegrees} to appear upright.
 */
public final class Frames {
  private Frames() {}

  /** Upright ARGB pixels; the result is {@code width x height}, swapped for 90 and 270 degrees. */
  public static int[] rgbaToArgb(ByteBuffer rgba, int width, int height, int rowStride,
                                 int pixelStride, int rotationDegrees) {
    if (pixelStride < 4 || rowStride < width * pixelStride) {
      throw new IllegalArgumentException("bad strides: pixel " + pixelStride + ", row " + rowStride
          + " for width " + width);
    }
    int r = ((rotationDegrees % 360) + 360) % 360;
    if (r % 90 != 0) {
      throw new IllegalArgumentException("rotation must be a multiple of 90, got " + rotationDegrees);
    }
    int base = rgba.position();
    int outW = (r == 90 || r == 270) ? height : width;
    int outH = (r == 90 || r == 270) ? width : height;
    int[] out = new int[width * height];
    for (int y = 0; y < height; y++) {
      int row = base + y * rowStride;
      for (int x = 0; x < width; x++) {
        int p = row + x * pixelStride;
        int argb = ((rgba.get(p + 3) & 0xff) << 24) | ((rgba.get(p) & 0xff) << 16)
            | ((rgba.get(p + 1) & 0xff) << 8) | (rgba.get(p + 2) & 0xff);
        int ox;
        int oy;
        switch (r) {
          case 90: ox = height - 1 - y; oy = x; break;
          case 180: ox = width - 1 - x; oy = height - 1 - y; break;
          case 270: ox = y; oy = width - 1 - x; break;
          default: ox = x; oy = y; break;
        }
        out[oy * outW + ox] = argb;
      }
    }
    return out;
  }

  /** Width of the upright frame. */
  public static int uprightWidth(int width, int height, int rotationDegrees) {
    return (((rotationDegrees % 360) + 360) % 180 == 90) ? height : width;
  }

  /** Height of the upright frame. */
  public static int uprightHeight(int width, int height, int rotationDegrees) {
    return (((rotationDegrees % 360) + 360) % 180 == 90) ? width : height;
  }
}
