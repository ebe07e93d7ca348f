package org.squishtf.core;

/** A rectangle in view (screen) pixels, fractional because the preview is scaled. */
public final class ViewRect {
  public final double left;
  public final double top;
  public final double right;
  public final double bottom;

  public ViewRect(double left, double top, double right, double bottom) {
    this.left = left;
    this.top = top;
    this.right = right;
    this.bottom = bottom;
  }

  public double width() {
    return right - left;
  }

  public double height() {
    return bottom - top;
  }

  /** The part inside {@code 0..width x 0..height}; empty (zero size) when none is. */
  public ViewRect clip(double width, double height) {
    double l = Math.min(Math.max(left, 0), width);
    double t = Math.min(Math.max(top, 0), height);
    double r = Math.max(Math.min(right, width), l);
    double b = Math.max(Math.min(bottom, height), t);
    return new ViewRect(l, t, r, b);
  }

  @Override
  public String toString() {
    return "ViewRect(" + left + ", " + top + ", " + right + ", " + bottom + ")";
  }
}
