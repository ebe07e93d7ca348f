package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import org.junit.Test;

public class CropGeometryTest {
  @Test
  public void centreSquareFloorsOddOffsets() {
    assertEquals(new PixelRect(80, 0, 560, 480), CropGeometry.centreSquare(640, 480));
    assertEquals(new PixelRect(0, 80, 480, 560), CropGeometry.centreSquare(480, 640));
    // 98x65: (98 - 65) / 2 = 16.5 -> 16 (the golden "flower"); 51x78: 13.5 -> 13
    assertEquals(new PixelRect(16, 0, 81, 65), CropGeometry.centreSquare(98, 65));
    assertEquals(new PixelRect(0, 13, 51, 64), CropGeometry.centreSquare(51, 78));
    assertEquals(new PixelRect(0, 0, 8, 8), CropGeometry.centreSquare(8, 8));
  }

  @Test
  public void sensorRectangleForEachRotation() {
    // an upright rectangle x 10..30, y 20..60 of a 640x480 sensor frame shown upright
    PixelRect u = new PixelRect(10, 20, 30, 60);
    assertEquals(u, CropGeometry.toSensor(u, 640, 480, 0));
    assertEquals(new PixelRect(20, 450, 60, 470), CropGeometry.toSensor(u, 640, 480, 90));
    assertEquals(new PixelRect(610, 420, 630, 460), CropGeometry.toSensor(u, 640, 480, 180));
    assertEquals(new PixelRect(580, 10, 620, 30), CropGeometry.toSensor(u, 640, 480, 270));
  }

  @Test
  public void theSquareIsFlooredUprightNotInTheSensor() {
    // 641x480 sensor at 90 or 270 degrees is 480x641 upright: top = (641 - 480) / 2 = 80
    assertEquals(new PixelRect(80, 0, 560, 480), CropGeometry.centreSquareInSensor(641, 480, 90));
    // at 270 the upright top row is sensor column 640, so the floored offset lands at 81
    assertEquals(new PixelRect(81, 0, 561, 480), CropGeometry.centreSquareInSensor(641, 480, 270));
    assertEquals(new PixelRect(81, 0, 561, 480), CropGeometry.centreSquareInSensor(641, 480, 180));
    assertEquals(new PixelRect(80, 0, 560, 480), CropGeometry.centreSquareInSensor(641, 480, 0));
  }

  /** Checks toSensor against Frames' rotation: every upright pixel's source lies in the rectangle. */
  @Test
  public void agreesWithTheFrameRotation() {
    int w = 9;
    int h = 6;
    ByteBuffer b = ByteBuffer.allocate(w * h * 4);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        b.put((y * w + x) * 4, (byte) x);  // red = sensor x, green = sensor y
        b.put((y * w + x) * 4 + 1, (byte) y);
      }
    }
    for (int rotation : new int[] {0, 90, 180, 270}) {
      int uw = Frames.uprightWidth(w, h, rotation);
      int[] argb = Frames.rgbaToArgb(b, w, h, w * 4, 4, rotation);
      PixelRect square = CropGeometry.centreSquare(uw, Frames.uprightHeight(w, h, rotation));
      PixelRect sensor = CropGeometry.centreSquareInSensor(w, h, rotation);
      assertEquals(square.width() * square.height(), sensor.width() * sensor.height());
      for (int uy = square.top; uy < square.bottom; uy++) {
        for (int ux = square.left; ux < square.right; ux++) {
          int sx = (argb[uy * uw + ux] >> 16) & 0xff;
          int sy = (argb[uy * uw + ux] >> 8) & 0xff;
          assertTrue(rotation + ": (" + sx + ", " + sy + ") outside " + sensor,
              sx >= sensor.left && sx < sensor.right && sy >= sensor.top && sy < sensor.bottom);
        }
      }
    }
  }
}
