package org.squishtf.core;

/**
 * Where the model's square appears on screen. CameraX's {@code PreviewView} with scale type
 * {@code FILL_CENTER} scales the upright frame uniformly until it covers the whole view and
 * centres it, so parts of the frame can fall outside the view. This maps upright frame pixels
 * to view pixels, so the app can outline what the model classifies and dim the rest, and can
 * tell whether the whole square is visible. It assumes the preview shows the same field of
 * view as the analysed frames (the app requests the same 4:3 aspect ratio for both).
 */
public final class PreviewGeometry {
  public final int frameWidth;
  public final int frameHeight;
  public final int viewWidth;
  public final int viewHeight;
  /** View pixels per frame pixel. */
  public final double scale;
  /** Where the frame's (0, 0) lands in the view (negative when cut off). */
  public final double offsetX;
  public final double offsetY;

  private PreviewGeometry(int frameWidth, int frameHeight, int viewWidth, int viewHeight) {
    if (frameWidth < 1 || frameHeight < 1 || viewWidth < 1 || viewHeight < 1) {
      throw new IllegalArgumentException("frame " + frameWidth + "x" + frameHeight + " and view "
          + viewWidth + "x" + viewHeight + " must both be at least 1x1");
    }
    this.frameWidth = frameWidth;
    this.frameHeight = frameHeight;
    this.viewWidth = viewWidth;
    this.viewHeight = viewHeight;
    this.scale = Math.max((double) viewWidth / frameWidth, (double) viewHeight / frameHeight);
    this.offsetX = (viewWidth - frameWidth * scale) / 2;
    this.offsetY = (viewHeight - frameHeight * scale) / 2;
  }

  /** {@code FILL_CENTER} of an upright {@code frameWidth x frameHeight} frame in the view. */
  public static PreviewGeometry fillCenter(int frameWidth, int frameHeight, int viewWidth,
                                           int viewHeight) {
    return new PreviewGeometry(frameWidth, frameHeight, viewWidth, viewHeight);
  }

  /** An upright frame rectangle in view pixels (may extend past the view). */
  public ViewRect map(PixelRect r) {
    return new ViewRect(offsetX + r.left * scale, offsetY + r.top * scale,
        offsetX + r.right * scale, offsetY + r.bottom * scale);
  }

  /** The model's square in view pixels, unclipped. */
  public ViewRect modelRegion() {
    return map(CropGeometry.centreSquare(frameWidth, frameHeight));
  }

  /** The part of the model's square the view shows. */
  public ViewRect visibleModelRegion() {
    return modelRegion().clip(viewWidth, viewHeight);
  }

  /** Fraction of the model's square that is on screen: 1 when the user sees all of it. */
  public double visibleFraction() {
    ViewRect all = modelRegion();
    ViewRect seen = visibleModelRegion();
    return (seen.width() * seen.height()) / (all.width() * all.height());
  }
}
