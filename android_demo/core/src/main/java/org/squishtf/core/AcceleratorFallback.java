package org.squishtf.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Loads a model on the first backend of a plan that can both create it and run it once, and
 * records why each earlier backend was passed over. A GPU can fail late (some drivers compile
 * fine and fail on the first run), so the first run is part of "works". The model type and the
 * two steps are plain interfaces: the app supplies LiteRT, the tests supply fakes.
 *
 * <p>Caught and recorded: every {@link Exception}, {@link LinkageError} (a backend's native
 * library missing) and {@link OutOfMemoryError} (the GPU path can need memory the CPU one does
 * not). Other errors propagate.
 */
public final class AcceleratorFallback {
  private AcceleratorFallback() {}

  /** Creates the model on one backend (compile, check tensors, allocate buffers). */
  public interface Create<M> {
    M create(Backend backend) throws Exception;
  }

  /** Runs the freshly created model once (for example on a blank image). */
  public interface FirstRun<M> {
    void run(M model) throws Exception;
  }

  /** A model that works, where it runs, and what failed before it. */
  public static final class Loaded<M> {
    public final M model;
    public final Backend backend;
    /** The backends passed over, in order; empty when the first choice worked. */
    public final List<AcceleratorAttempt> fallbacks;

    Loaded(M model, Backend backend, List<AcceleratorAttempt> fallbacks) {
      this.model = model;
      this.backend = backend;
      this.fallbacks = Collections.unmodifiableList(fallbacks);
    }

    public boolean fellBack() {
      return !fallbacks.isEmpty();
    }
  }

  /** Tries {@code plan} in order; see the class comment for what counts as a failure. */
  public static <M extends AutoCloseable> Loaded<M> load(List<Backend> plan, Create<M> create,
      FirstRun<M> firstRun) throws AcceleratorsFailedException {
    return load(plan, create, firstRun, Collections.emptyList());
  }

  /**
   * As {@link #load(List, Create, FirstRun)}, continuing after {@code earlier} failures (for
   * example a GPU that failed on a camera frame), which are kept at the front of the record.
   */
  public static <M extends AutoCloseable> Loaded<M> load(List<Backend> plan, Create<M> create,
      FirstRun<M> firstRun, List<AcceleratorAttempt> earlier) throws AcceleratorsFailedException {
    List<AcceleratorAttempt> failures = new ArrayList<>(earlier);
    for (Backend backend : plan) {
      M model;
      try {
        model = create.create(backend);
        if (model == null) {
          throw new IllegalStateException("creating the model on the " + backend
              + " returned nothing");
        }
      } catch (Exception | LinkageError | OutOfMemoryError e) {
        failures.add(new AcceleratorAttempt(backend, AcceleratorAttempt.Stage.CREATE, e));
        continue;
      }
      try {
        firstRun.run(model);
        return new Loaded<>(model, backend, failures);
      } catch (Exception | LinkageError | OutOfMemoryError e) {
        closeQuietly(model, e);
        failures.add(new AcceleratorAttempt(backend, AcceleratorAttempt.Stage.FIRST_RUN, e));
      }
    }
    throw new AcceleratorsFailedException(failures);
  }

  private static void closeQuietly(AutoCloseable model, Throwable reason) {
    try {
      model.close();
    } catch (Exception | LinkageError e) {
      if (e != reason) {
        reason.addSuppressed(e);  // the run failure is what matters; keep this one for the log
      }
    }
  }
}
