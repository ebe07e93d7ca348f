package org.squishtf.core;

import java.nio.ByteBuffer;

/**
 * A whole camera frame to upright ARGB pixels: unpacks every pixel of the RGBA plane and
 * rotates it clockwise by {@code rotationDegrees}. The app does not use it for inference: it
 * converts every pixel (307,200 for 640x480) where the resize to 64x64 reads at most 16,384,
 * which {@link FrameSampler} reads directly. It stays as the straightforward reference the
 * sampler is tested against, and as the way to get a displayable image of a frame.
 */
public final class Frames {
  private Frames() {}

  /** Upright ARGB pixels; the result is {@code width x height}, swapped for 90 and 270 degrees. */
  public static int[] rgbaToArgb(ByteBuffer rgba, int width, int height, int rowStride,
                                 int pixelStride, int rotationDegrees) {
    RgbaFrame frame = new RgbaFrame(rgba, width, height, rowStride, pixelStride, rotationDegrees);
    int r = frame.rotationDegrees;
    int base = rgba.position();
    int outW = frame.uprightWidth();
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
