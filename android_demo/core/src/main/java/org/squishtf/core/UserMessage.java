package org.squishtf.core;

import java.util.Objects;

/** One short message for the screen: what failed (or changed) and what to do about it. */
public final class UserMessage {
  /** What the message is about; tests and the app's colouring use it. */
  public enum Kind {
    /** a bundled file missing or not the one models.json describes */
    MODEL_FILE,
    /** models.json unusable */
    MODEL_INDEX,
    /** preprocess.json, or the model's tensors, do not match the contract */
    CONTRACT,
    /** labels.txt does not fit the model */
    LABELS,
    OUT_OF_MEMORY,
    /** no backend could run the model */
    ACCELERATOR,
    /** the camera could not be opened */
    CAMERA,
    /** the camera delivered a frame the app cannot read */
    CAMERA_FRAME,
    /** not an error: the first-choice backend failed and another one runs the model */
    FALLBACK,
    UNKNOWN
  }

  public final Kind kind;
  public final String text;

  public UserMessage(Kind kind, String text) {
    this.kind = Objects.requireNonNull(kind);
    this.text = Objects.requireNonNull(text);
  }

  /** False for a notice (the app still works), true for an error. */
  public boolean isError() {
    return kind != Kind.FALLBACK;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UserMessage && ((UserMessage) o).kind == kind
        && ((UserMessage) o).text.equals(text);
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + text.hashCode();
  }

  @Override
  public String toString() {
    return kind + ": " + text;
  }
}
