package org.squishtf.core;

import java.util.Collections;
import java.util.List;

/**
 * The order in which backends are tried. The default is the GPU, then the CPU: the GPU is
 * faster when it works, but drivers differ between phones, so any failure falls back to the
 * CPU (LiteRT's own silent fallback is not used, because the user should see that it happened).
 * "CPU only" skips the GPU entirely.
 */
public final class AcceleratorPlan {
  /** What the user chose on screen. */
  public enum Choice { GPU_THEN_CPU, CPU_ONLY }

  private final List<Backend> backends;

  private AcceleratorPlan(List<Backend> backends) {
    this.backends = backends;
  }

  public static AcceleratorPlan of(Choice choice) {
    return new AcceleratorPlan(choice == Choice.CPU_ONLY ? List.of(Backend.CPU)
        : List.of(Backend.GPU, Backend.CPU));
  }

  /** The backends to try, first choice first. */
  public List<Backend> backends() {
    return backends;
  }

  /** What is left to try after {@code failed} stopped working (empty when it was the last). */
  public List<Backend> after(Backend failed) {
    int i = backends.indexOf(failed);
    return i < 0 ? Collections.emptyList() : backends.subList(i + 1, backends.size());
  }
}
