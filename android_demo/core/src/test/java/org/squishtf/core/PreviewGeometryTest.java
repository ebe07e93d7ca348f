package org.squishtf.core;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class PreviewGeometryTest {
  private static void assertRect(double l, double t, double r, double b, ViewRect got) {
    String s = got.toString();
    assertEquals(s, l, got.left, 1e-9);
    assertEquals(s, t, got.top, 1e-9);
    assertEquals(s, r, got.right, 1e-9);
    assertEquals(s, b, got.bottom, 1e-9);
  }

  @Test
  public void squareViewShowsExactlyTheModelsSquare() {
    // portrait 480x640 frame in a 1080x1080 view: scale max(2.25, 1.6875) = 2.25, the frame is
    // 1080x1440 on screen, 180 px cut off above and below; the square (0, 80)-(480, 560) fills it
    PreviewGeometry g = PreviewGeometry.fillCenter(480, 640, 1080, 1080);
    assertEquals(2.25, g.scale, 0);
    assertEquals(-180, g.offsetY, 0);
    assertRect(0, 0, 1080, 1080, g.modelRegion());
    assertEquals(1.0, g.visibleFraction(), 1e-12);
  }

  @Test
  public void tallFullScreenViewCutsOffTheSidesOfTheSquare() {
    // 480x640 frame in a 1080x2400 view: scale max(2.25, 3.75) = 3.75, frame 1800x2400 on
    // screen, 360 px cut off left and right; the square spans x -360..1440, y 300..2100
    PreviewGeometry g = PreviewGeometry.fillCenter(480, 640, 1080, 2400);
    assertEquals(3.75, g.scale, 0);
    assertEquals(-360, g.offsetX, 0);
    assertRect(-360, 300, 1440, 2100, g.modelRegion());
    assertRect(0, 300, 1080, 2100, g.visibleModelRegion());
    assertEquals(0.6, g.visibleFraction(), 1e-12);  // 1080 of 1800 columns
  }

  @Test
  public void landscapeFrameInAWideViewShowsTheSquareWithMarginsToDim() {
    // 640x480 frame in a 2000x1000 view: scale max(3.125, 2.0833) = 3.125, frame 2000x1500,
    // 250 px cut off above and below; the square x 80..560 -> 250..1750, y -250..1250
    PreviewGeometry g = PreviewGeometry.fillCenter(640, 480, 2000, 1000);
    assertRect(250, -250, 1750, 1250, g.modelRegion());
    assertRect(250, 0, 1750, 1000, g.visibleModelRegion());
    assertEquals(1000.0 / 1500.0, g.visibleFraction(), 1e-12);
  }

  @Test
  public void oddFrameKeepsTheFlooredOffset() {
    // 481x640 upright: the square is rows 79..560 (79.5 floored), so it sits half a frame
    // pixel above centre; in a 962x962 view (scale 2) that is 1 view pixel
    PreviewGeometry g = PreviewGeometry.fillCenter(481, 640, 962, 962);
    assertRect(0, -1, 962, 961, g.modelRegion());
  }
}
