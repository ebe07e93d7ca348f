package org.squishtf.core;

/**
 * Where the model's input comes from: the largest centred square of the upright image, with
 * offsets floored as Python's {@code (h - side) // 2}, {@code (w - side) // 2} (the contract's
 * {@code "crop": "center_square"}), and the same pixels in the camera's sensor buffer, which
 * must be rotated clockwise by {@code rotationDegrees} to be upright.
 */
public final class CropGeometry {
  private CropGeometry() {}

  /** The centred square of a {@code width x height} upright image. */
  public static PixelRect centreSquare(int width, int height) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException("image must be at least 1x1, got " + width + "x" + height);
    }
    int side = Math.min(width, height);
    int left = (width - side) / 2;  // non-negative, so / floors like Python's //
    int top = (height - side) / 2;
    return new PixelRect(left, top, left + side, top + side);
  }

  /**
   * An upright rectangle in sensor-buffer coordinates. Upright (x, y) is sensor (x, y) at 0
   * degrees, (y, h-1-x) at 90, (w-1-x, h-1-y) at 180 and (w-1-y, x) at 270, where w x h is the
   * sensor frame's size.
   */
  public static PixelRect toSensor(PixelRect upright, int sensorWidth, int sensorHeight,
                                   int rotationDegrees) {
    int r = ((rotationDegrees % 360) + 360) % 360;
    int w = sensorWidth;
    int h = sensorHeight;
    PixelRect u = upright;
    switch (r) {
      case 0: return u;
      case 90: return new PixelRect(u.top, h - u.right, u.bottom, h - u.left);
      case 180: return new PixelRect(w - u.right, h - u.bottom, w - u.left, h - u.top);
      case 270: return new PixelRect(w - u.bottom, u.left, w - u.top, u.right);
      default:
        throw new IllegalArgumentException("rotation must be a multiple of 90 degrees, got "
            + rotationDegrees);
    }
  }

  /** The model's square in the sensor buffer of a {@code sensorWidth x sensorHeight} frame. */
  public static PixelRect centreSquareInSensor(int sensorWidth, int sensorHeight,
                                               int rotationDegrees) {
    boolean swap = Math.floorMod(rotationDegrees, 180) == 90;
    PixelRect upright = swap ? centreSquare(sensorHeight, sensorWidth)
        : centreSquare(sensorWidth, sensorHeight);
    return toSensor(upright, sensorWidth, sensorHeight, rotationDegrees);
  }
}
