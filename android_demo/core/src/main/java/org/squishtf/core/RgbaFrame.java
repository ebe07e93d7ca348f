package org.squishtf.core;

import java.nio.ByteBuffer;

/**
 * One CameraX RGBA_8888 analysis frame, validated once: a plane of R, G, B, A bytes starting at
 * the buffer's position, rows {@code rowStride} bytes apart (rows may be padded, the last one
 * need not be), pixels {@code pixelStride} bytes apart; rotating it clockwise by
 * {@code rotationDegrees} makes it upright. Maps upright pixel coordinates to byte offsets, so
 * {@link FrameSampler} can read only the pixels it needs without rotating the frame.
 */
public final class RgbaFrame {
  public final ByteBuffer buffer;
  public final int width;
  public final int height;
  public final int rowStride;
  public final int pixelStride;
  /** 0, 90, 180 or 270. */
  public final int rotationDegrees;
  private final int base;

  public RgbaFrame(ByteBuffer buffer, int width, int height, int rowStride, int pixelStride,
                   int rotationDegrees) {
    if (width < 1 || height < 1) {
      throw new FrameFormatException("camera frame is " + width + "x" + height
          + "; it must be at least 1x1");
    }
    if (pixelStride < 4 || rowStride < (long) width * pixelStride) {
      throw new FrameFormatException("camera frame strides are pixel " + pixelStride + ", row "
          + rowStride + " for width " + width + "; RGBA_8888 needs pixel >= 4 and row >= width"
          + " * pixel");
    }
    int r = ((rotationDegrees % 360) + 360) % 360;
    if (r % 90 != 0) {
      throw new FrameFormatException("camera rotation must be a multiple of 90 degrees, got "
          + rotationDegrees);
    }
    long needed = (long) (height - 1) * rowStride + (long) (width - 1) * pixelStride + 4;
    if (buffer.limit() - buffer.position() < needed) {
      throw new FrameFormatException("camera frame buffer holds " + (buffer.limit()
          - buffer.position()) + " bytes, a " + width + "x" + height + " RGBA plane with row"
          + " stride " + rowStride + " needs " + needed);
    }
    this.buffer = buffer;
    this.width = width;
    this.height = height;
    this.rowStride = rowStride;
    this.pixelStride = pixelStride;
    this.rotationDegrees = r;
    this.base = buffer.position();
  }

  /** Whether the sensor's width becomes the upright height. */
  public boolean swapsAxes() {
    return rotationDegrees == 90 || rotationDegrees == 270;
  }

  public int uprightWidth() {
    return swapsAxes() ? height : width;
  }

  public int uprightHeight() {
    return swapsAxes() ? width : height;
  }

  /** Byte index of the red byte of upright pixel (x, y). */
  public int offset(int x, int y) {
    return base + columnOffset(x) + rowOffset(y);
  }

  /**
   * The part of {@link #offset} that depends on the upright x only. Upright (x, y) is sensor
   * (x, y) at 0 degrees, (y, h-1-x) at 90, (w-1-x, h-1-y) at 180, (w-1-y, x) at 270, so the
   * byte offset always splits into an x part plus a y part.
   */
  int columnOffset(int x) {
    switch (rotationDegrees) {
      case 90: return (height - 1 - x) * rowStride;
      case 180: return (width - 1 - x) * pixelStride;
      case 270: return x * rowStride;
      default: return x * pixelStride;
    }
  }

  /** The part of {@link #offset} that depends on the upright y only (see {@link #columnOffset}). */
  int rowOffset(int y) {
    switch (rotationDegrees) {
      case 90: return y * pixelStride;
      case 180: return (height - 1 - y) * rowStride;
      case 270: return (width - 1 - y) * pixelStride;
      default: return y * rowStride;
    }
  }

  int base() {
    return base;
  }
}
