package org.squishtf.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * No backend of the plan could load and run the model. Carries every attempt; the last one's
 * cause is this exception's cause and the others are suppressed, so a stack trace shows all.
 */
public class AcceleratorsFailedException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient List<AcceleratorAttempt> attempts;

  public AcceleratorsFailedException(List<AcceleratorAttempt> attempts) {
    super(message(attempts), attempts.isEmpty() ? null : attempts.get(attempts.size() - 1).cause);
    this.attempts = Collections.unmodifiableList(new ArrayList<>(attempts));
    for (int i = 0; i < attempts.size() - 1; i++) {
      addSuppressed(attempts.get(i).cause);
    }
  }

  /** Every failed attempt, in the order they were made. */
  public List<AcceleratorAttempt> attempts() {
    return attempts;
  }

  private static String message(List<AcceleratorAttempt> attempts) {
    if (attempts.isEmpty()) {
      return "no backend was tried";
    }
    StringBuilder sb = new StringBuilder("no backend could run the model: ");
    for (int i = 0; i < attempts.size(); i++) {
      sb.append(i == 0 ? "" : "; ").append(attempts.get(i).describe());
    }
    return sb.toString();
  }
}
