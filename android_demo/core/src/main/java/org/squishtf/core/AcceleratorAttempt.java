package org.squishtf.core;

/** One backend that failed, at which stage and why: the record behind every fallback. */
public final class AcceleratorAttempt {
  /** When the backend failed. */
  public enum Stage {
    /** compiling the model or creating its buffers */
    CREATE("could not load the model"),
    /** the check run right after loading */
    FIRST_RUN("failed its first run"),
    /** a camera frame, after a successful start */
    RUN("failed while running");

    final String words;

    Stage(String words) {
      this.words = words;
    }
  }

  public final Backend backend;
  public final Stage stage;
  public final Throwable cause;

  public AcceleratorAttempt(Backend backend, Stage stage, Throwable cause) {
    if (backend == null || stage == null || cause == null) {
      throw new NullPointerException("backend, stage and cause are all required");
    }
    this.backend = backend;
    this.stage = stage;
    this.cause = cause;
  }

  /** For example "GPU could not load the model (LiteRtException: no OpenCL)". */
  public String describe() {
    return backend + " " + stage.words + " (" + ErrorMessages.brief(cause) + ")";
  }

  @Override
  public String toString() {
    return describe();
  }
}
