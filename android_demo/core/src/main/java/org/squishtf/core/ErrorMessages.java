package org.squishtf.core;

import java.io.FileNotFoundException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Any failure to one short message for the screen. The cause chain is searched from the
 * outside in, and the first failure this app knows how to explain decides the message (a
 * {@link ContractException} wrapped in an {@code ExecutionException} is still a contract
 * problem). A failure on every backend is explained by its last cause when that is a problem
 * with the model itself, since another processor would not fix it.
 */
public final class ErrorMessages {
  static final String REPORT = "If it keeps happening, report it with the log (tag SquishDemo).";
  static final String REBUILD = "Publish the model with squish-report and rebuild the app"
      + " (its copyModels task bundles the files).";
  private static final int BRIEF_MAX = 160;

  private ErrorMessages() {}

  /** The message for {@code error}; never null. */
  public static UserMessage describe(Throwable error) {
    for (Throwable t : chain(error)) {
      UserMessage m = known(t);
      if (m != null) {
        return m;
      }
    }
    return new UserMessage(UserMessage.Kind.UNKNOWN, "Unexpected error: " + brief(innermost(error))
        + ". Choose the model again or restart the app. " + REPORT);
  }

  /** The notice shown while a later backend runs the model because earlier ones failed. */
  public static UserMessage fallbackNotice(List<AcceleratorAttempt> fallbacks, Backend now) {
    StringBuilder sb = new StringBuilder();
    for (AcceleratorAttempt a : fallbacks) {
      sb.append(a.describe()).append("; ");
    }
    return new UserMessage(UserMessage.Kind.FALLBACK, sb + "running on the " + now + " instead.");
  }

  /** "Type: first line of the message", at most {@value #BRIEF_MAX} characters. */
  public static String brief(Throwable t) {
    String msg = t.getMessage();
    String line = msg == null || msg.isBlank() ? "" : ": " + msg.strip().split("\r?\n", 2)[0];
    String s = t.getClass().getSimpleName() + line;
    return s.length() <= BRIEF_MAX ? s : s.substring(0, BRIEF_MAX - 1) + "\u2026";
  }

  private static UserMessage known(Throwable t) {
    if (t instanceof AcceleratorsFailedException) {
      return accelerators((AcceleratorsFailedException) t);
    }
    if (t instanceof ModelFileException) {
      return message(UserMessage.Kind.MODEL_FILE, "Model file problem: " + t.getMessage() + ". "
          + REBUILD);
    }
    if (t instanceof FileNotFoundException || t instanceof NoSuchFileException) {
      return message(UserMessage.Kind.MODEL_FILE, "A bundled file is missing (" + t.getMessage()
          + "). " + REBUILD);
    }
    if (t instanceof TensorMismatchException) {
      return message(UserMessage.Kind.CONTRACT, "The model does not match its contract: "
          + t.getMessage());
    }
    if (t instanceof ContractException) {
      return message(UserMessage.Kind.CONTRACT, "The model's preprocess.json cannot be used: "
          + t.getMessage());
    }
    if (t instanceof ModelIndexException) {
      return message(UserMessage.Kind.MODEL_INDEX, "The bundled models.json cannot be used: "
          + t.getMessage());
    }
    if (t instanceof LabelException) {
      return message(UserMessage.Kind.LABELS, "The labels do not fit the model: "
          + t.getMessage());
    }
    if (t instanceof OutOfMemoryError) {
      return message(UserMessage.Kind.OUT_OF_MEMORY, "Out of memory while running the model."
          + " Choose a smaller model or the CPU, or close other apps.");
    }
    if (t instanceof CameraException) {
      return message(UserMessage.Kind.CAMERA, t.getMessage() + " (" + brief(innermost(t))
          + "). Close other apps that use the camera and reopen this one.");
    }
    if (t instanceof FrameFormatException) {
      return message(UserMessage.Kind.CAMERA_FRAME, "The camera delivered a frame this app cannot"
          + " read: " + t.getMessage() + ". " + REPORT);
    }
    return null;
  }

  private static UserMessage accelerators(AcceleratorsFailedException e) {
    List<AcceleratorAttempt> attempts = e.attempts();
    if (!attempts.isEmpty()) {
      UserMessage last = describe(attempts.get(attempts.size() - 1).cause);
      if (last.kind != UserMessage.Kind.UNKNOWN) {
        return last;  // a problem with the model files or memory: no backend would help
      }
    }
    StringBuilder sb = new StringBuilder("The model could not run on any processor: ");
    for (int i = 0; i < attempts.size(); i++) {
      sb.append(i == 0 ? "" : "; ").append(attempts.get(i).describe());
    }
    return message(UserMessage.Kind.ACCELERATOR, sb + ". Try another model. " + REPORT);
  }

  private static UserMessage message(UserMessage.Kind kind, String text) {
    return new UserMessage(kind, text);
  }

  /** The deepest cause: usually the one that says what actually went wrong. */
  private static Throwable innermost(Throwable t) {
    List<Throwable> all = chain(t);
    return all.get(all.size() - 1);
  }

  /** {@code t}, its cause, the cause's cause, ...; stops at a cycle. */
  static List<Throwable> chain(Throwable t) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<Throwable> out = new ArrayList<>();
    for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
      out.add(c);
    }
    return out;
  }
}
