package org.squishtf.core;

/**
 * The one message on screen and the rule for when it goes away, so an error is not wiped by
 * the next camera frame. Every change the user makes (another model, another backend choice)
 * starts a new generation; work reports which generation it ran for.
 *
 * <ul>
 *   <li>A message stays until a <b>successful frame of a newer generation</b>: an error from the
 *       old settings stays visible until the new settings actually classify a frame.
 *   <li>A message of the current generation (an error, or the notice that the GPU failed and
 *       the CPU runs instead) stays for as long as those settings stay; frames do not clear it.
 *   <li>A newer message replaces an older one; reports from an older generation than the
 *       current one are stale and ignored.
 * </ul>
 *
 * Thread-safe: the camera thread reports, the UI thread changes settings and reads.
 */
public final class StatusBoard {
  private int generation;
  private UserMessage message;
  private int messageGeneration;

  /** The user changed something; returns the new generation for the work this starts. */
  public synchronized int settingsChanged() {
    return ++generation;
  }

  public synchronized int generation() {
    return generation;
  }

  /** Shows {@code m} for work of generation {@code g}; returns whether the screen must change. */
  public synchronized boolean report(int g, UserMessage m) {
    if (g < generation) {
      return false;
    }
    if (m.equals(message) && messageGeneration == g) {
      return false;
    }
    message = m;
    messageGeneration = g;
    return true;
  }

  /** A frame of generation {@code g} was classified; returns whether the screen must change. */
  public synchronized boolean frameSucceeded(int g) {
    if (g != generation || message == null || messageGeneration >= g) {
      return false;
    }
    message = null;
    return true;
  }

  /** The message to show, or null for none. */
  public synchronized UserMessage message() {
    return message;
  }
}
