package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.Test;

public class AcceleratorFallbackTest {
  /** A stand-in for a compiled model: remembers where it runs and whether it was closed. */
  static final class FakeModel implements AutoCloseable {
    final Backend backend;
    boolean closed;

    FakeModel(Backend backend) {
      this.backend = backend;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  /** Factories that fail on the listed backends, at create or at the first run. */
  static final class Fakes {
    final Set<Backend> failCreate = EnumSet.noneOf(Backend.class);
    final Set<Backend> failRun = EnumSet.noneOf(Backend.class);
    final List<String> calls = new ArrayList<>();
    final List<FakeModel> created = new ArrayList<>();

    AcceleratorFallback.Create<FakeModel> create() {
      return backend -> {
        calls.add("create " + backend);
        if (failCreate.contains(backend)) {
          throw new IllegalStateException(backend + " delegate unavailable");
        }
        FakeModel m = new FakeModel(backend);
        created.add(m);
        return m;
      };
    }

    AcceleratorFallback.FirstRun<FakeModel> run() {
      return model -> {
        calls.add("run " + model.backend);
        if (failRun.contains(model.backend)) {
          throw new RuntimeException(model.backend + " kernel failed");
        }
      };
    }

    AcceleratorFallback.Loaded<FakeModel> load(AcceleratorPlan.Choice choice)
        throws AcceleratorsFailedException {
      return AcceleratorFallback.load(AcceleratorPlan.of(choice).backends(), create(), run());
    }
  }

  @Test
  public void gpuFirstWhenItWorks() throws Exception {
    Fakes f = new Fakes();
    AcceleratorFallback.Loaded<FakeModel> loaded = f.load(AcceleratorPlan.Choice.GPU_THEN_CPU);
    assertEquals(Backend.GPU, loaded.backend);
    assertFalse(loaded.fellBack());
    assertEquals(List.of("create GPU", "run GPU"), f.calls);
    assertFalse(loaded.model.closed);
  }

  @Test
  public void fallsBackToCpuWhenTheGpuCannotBeCreated() throws Exception {
    Fakes f = new Fakes();
    f.failCreate.add(Backend.GPU);
    AcceleratorFallback.Loaded<FakeModel> loaded = f.load(AcceleratorPlan.Choice.GPU_THEN_CPU);
    assertEquals(Backend.CPU, loaded.backend);
    assertEquals(List.of("create GPU", "create CPU", "run CPU"), f.calls);
    assertEquals(1, loaded.fallbacks.size());
    AcceleratorAttempt a = loaded.fallbacks.get(0);
    assertEquals(Backend.GPU, a.backend);
    assertEquals(AcceleratorAttempt.Stage.CREATE, a.stage);
    assertEquals("GPU delegate unavailable", a.cause.getMessage());
    assertEquals("GPU could not load the model (IllegalStateException: GPU delegate unavailable)",
        a.describe());
  }

  @Test
  public void fallsBackToCpuWhenTheGpuFailsItsFirstRunAndClosesIt() throws Exception {
    Fakes f = new Fakes();
    f.failRun.add(Backend.GPU);
    AcceleratorFallback.Loaded<FakeModel> loaded = f.load(AcceleratorPlan.Choice.GPU_THEN_CPU);
    assertEquals(Backend.CPU, loaded.backend);
    assertEquals(List.of("create GPU", "run GPU", "create CPU", "run CPU"), f.calls);
    assertEquals(AcceleratorAttempt.Stage.FIRST_RUN, loaded.fallbacks.get(0).stage);
    assertTrue("the failed GPU model is released", f.created.get(0).closed);
    assertFalse(loaded.model.closed);
  }

  @Test
  public void reportsEveryCauseWhenAllBackendsFail() {
    Fakes f = new Fakes();
    f.failCreate.add(Backend.GPU);
    f.failRun.add(Backend.CPU);
    try {
      f.load(AcceleratorPlan.Choice.GPU_THEN_CPU);
      fail("loaded with every backend failing");
    } catch (AcceleratorsFailedException e) {
      assertEquals(2, e.attempts().size());
      assertEquals(AcceleratorAttempt.Stage.CREATE, e.attempts().get(0).stage);
      assertEquals(AcceleratorAttempt.Stage.FIRST_RUN, e.attempts().get(1).stage);
      assertSame(e.attempts().get(1).cause, e.getCause());
      assertSame(e.attempts().get(0).cause, e.getSuppressed()[0]);
      assertTrue(e.getMessage(), e.getMessage().contains("GPU could not load the model")
          && e.getMessage().contains("CPU failed its first run (RuntimeException: CPU kernel failed)"));
      assertTrue(f.created.get(0).closed);
    }
  }

  @Test
  public void cpuOnlyNeverTouchesTheGpu() throws Exception {
    Fakes f = new Fakes();
    f.failCreate.add(Backend.GPU);
    AcceleratorFallback.Loaded<FakeModel> loaded = f.load(AcceleratorPlan.Choice.CPU_ONLY);
    assertEquals(Backend.CPU, loaded.backend);
    assertEquals(List.of("create CPU", "run CPU"), f.calls);
    assertFalse(loaded.fellBack());
  }

  @Test
  public void missingNativeCodeAndNullModelsCountAsFailures() throws Exception {
    List<String> calls = new ArrayList<>();
    AcceleratorFallback.Loaded<FakeModel> loaded = AcceleratorFallback.load(
        List.of(Backend.GPU, Backend.CPU),
        backend -> {
          if (backend == Backend.GPU) {
            throw new UnsatisfiedLinkError("libLiteRtGpuAccelerator.so not found");
          }
          return new FakeModel(backend);
        },
        model -> calls.add("run " + model.backend));
    assertEquals(Backend.CPU, loaded.backend);
    assertTrue(loaded.fallbacks.get(0).cause instanceof UnsatisfiedLinkError);

    try {
      AcceleratorFallback.load(List.of(Backend.CPU), backend -> (FakeModel) null, model -> { });
      fail("accepted a null model");
    } catch (AcceleratorsFailedException e) {
      assertTrue(e.getCause().getMessage(), e.getCause().getMessage().contains("returned nothing"));
    }
  }

  @Test
  public void aFailingCloseDoesNotHideTheRunFailure() throws Exception {
    AcceleratorFallback.Loaded<AutoCloseable> loaded = AcceleratorFallback.load(
        List.of(Backend.GPU, Backend.CPU),
        backend -> backend == Backend.GPU ? () -> {
          throw new IllegalStateException("close failed");
        } : () -> { },
        new AcceleratorFallback.FirstRun<AutoCloseable>() {
          private int runs;

          @Override
          public void run(AutoCloseable model) {
            if (runs++ == 0) {
              throw new IllegalArgumentException("bad output");
            }
          }
        });
    assertEquals(Backend.CPU, loaded.backend);
    Throwable cause = loaded.fallbacks.get(0).cause;
    assertEquals("bad output", cause.getMessage());
    assertEquals("close failed", cause.getSuppressed()[0].getMessage());
  }

  @Test
  public void otherErrorsAreNotSwallowed() throws Exception {
    try {
      AcceleratorFallback.load(List.of(Backend.GPU, Backend.CPU),
          backend -> {
            throw new AssertionError("a bug, not a backend problem");
          },
          model -> { });
      fail("swallowed an AssertionError");
    } catch (AssertionError expected) {
      assertEquals("a bug, not a backend problem", expected.getMessage());
    }
  }

  @Test
  public void aGpuFailingOnAFrameContinuesWithTheRestOfThePlan() throws Exception {
    AcceleratorPlan plan = AcceleratorPlan.of(AcceleratorPlan.Choice.GPU_THEN_CPU);
    assertEquals(List.of(Backend.CPU), plan.after(Backend.GPU));
    assertEquals(List.of(), plan.after(Backend.CPU));
    assertEquals(List.of(), AcceleratorPlan.of(AcceleratorPlan.Choice.CPU_ONLY).after(Backend.CPU));

    AcceleratorAttempt onFrame = new AcceleratorAttempt(Backend.GPU,
        AcceleratorAttempt.Stage.RUN, new RuntimeException("GPU lost"));
    Fakes f = new Fakes();
    AcceleratorFallback.Loaded<FakeModel> loaded = AcceleratorFallback.load(
        plan.after(Backend.GPU), f.create(), f.run(), List.of(onFrame));
    assertEquals(Backend.CPU, loaded.backend);
    assertEquals(List.of(onFrame), loaded.fallbacks);
    assertEquals(List.of("create CPU", "run CPU"), f.calls);
    assertEquals("GPU failed while running (RuntimeException: GPU lost)", onFrame.describe());
  }
}
