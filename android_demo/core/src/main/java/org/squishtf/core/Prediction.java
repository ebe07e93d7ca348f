package org.squishtf.core;

/** One class with its score, as shown on screen. */
public final class Prediction {
  public final int index;
  public final String label;
  public final float score;

  public Prediction(int index, String label, float score) {
    this.index = index;
    this.label = label;
    this.score = score;
  }

  @Override
  public String toString() {
    return label + " (" + index + "): " + score;
  }
}
