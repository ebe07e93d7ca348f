package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.FileNotFoundException;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.Test;

public class ErrorMessagesTest {
  private static UserMessage describe(Throwable t) {
    return ErrorMessages.describe(t);
  }

  private static void assertMessage(UserMessage m, UserMessage.Kind kind, String... parts) {
    assertEquals(m.text, kind, m.kind);
    for (String p : parts) {
      assertTrue("\"" + m.text + "\" lacks \"" + p + "\"", m.text.contains(p));
    }
  }

  @Test
  public void modelFilesMissingOrCorrupt() {
    assertMessage(describe(new ModelFileException("models/a/model.tflite", "is missing")),
        UserMessage.Kind.MODEL_FILE, "models/a/model.tflite is missing", "rebuild the app");
    assertMessage(describe(new FileNotFoundException("models/a/labels.txt")),
        UserMessage.Kind.MODEL_FILE, "missing (models/a/labels.txt)", "squish-report");
  }

  @Test
  public void contractAndLabelProblems() {
    assertMessage(describe(new TensorMismatchException("model input dimension 1 (height) is 32")),
        UserMessage.Kind.CONTRACT, "does not match its contract", "dimension 1 (height)");
    assertMessage(describe(new ContractException("preprocess.json resize is \"nearest\"")),
        UserMessage.Kind.CONTRACT, "preprocess.json", "nearest");
    assertMessage(describe(new LabelException("labels.txt has 2 labels")),
        UserMessage.Kind.LABELS, "labels.txt has 2 labels");
    assertMessage(describe(new ModelIndexException("models.json: format is 1")),
        UserMessage.Kind.MODEL_INDEX, "format is 1");
  }

  @Test
  public void memoryCameraAndFrames() {
    assertMessage(describe(new OutOfMemoryError("Failed to allocate")),
        UserMessage.Kind.OUT_OF_MEMORY, "Out of memory", "smaller model");
    assertMessage(describe(new CameraException("Cannot open the back camera",
        new IllegalStateException("camera in use"))), UserMessage.Kind.CAMERA,
        "Cannot open the back camera", "camera in use", "Close other apps");
    assertMessage(describe(new FrameFormatException("camera rotation must be a multiple of 90")),
        UserMessage.Kind.CAMERA_FRAME, "multiple of 90");
  }

  @Test
  public void findsTheKnownCauseInsideWrappers() {
    Throwable wrapped = new ExecutionException(new RuntimeException("load failed",
        new ContractException("preprocess.json lacks [offset]")));
    assertMessage(describe(wrapped), UserMessage.Kind.CONTRACT, "lacks [offset]");
  }

  @Test
  public void unknownNamesTheInnermostCause() {
    Throwable t = new RuntimeException("wrapper", new IllegalStateException("native handle gone"));
    assertMessage(describe(t), UserMessage.Kind.UNKNOWN,
        "Unexpected error: IllegalStateException: native handle gone", "report it");
    RuntimeException cycle = new RuntimeException("a");
    RuntimeException other = new RuntimeException("b", cycle);
    cycle.initCause(other);
    assertEquals(UserMessage.Kind.UNKNOWN, describe(cycle).kind);  // terminates
  }

  @Test
  public void allBackendsFailingNamesEachOne() {
    AcceleratorsFailedException e = new AcceleratorsFailedException(List.of(
        new AcceleratorAttempt(Backend.GPU, AcceleratorAttempt.Stage.CREATE,
            new RuntimeException("no OpenCL")),
        new AcceleratorAttempt(Backend.CPU, AcceleratorAttempt.Stage.FIRST_RUN,
            new RuntimeException("op not supported"))));
    assertMessage(describe(new ExecutionException(e)), UserMessage.Kind.ACCELERATOR,
        "could not run on any processor", "GPU could not load the model (RuntimeException: no OpenCL)",
        "CPU failed its first run (RuntimeException: op not supported)", "Try another model");
  }

  @Test
  public void allBackendsFailingOnTheModelItselfIsAModelProblem() {
    AcceleratorsFailedException e = new AcceleratorsFailedException(List.of(
        new AcceleratorAttempt(Backend.GPU, AcceleratorAttempt.Stage.CREATE,
            new TensorMismatchException("model input dtype is int8 but models.json says float32")),
        new AcceleratorAttempt(Backend.CPU, AcceleratorAttempt.Stage.CREATE,
            new TensorMismatchException("model input dtype is int8 but models.json says float32"))));
    assertMessage(describe(e), UserMessage.Kind.CONTRACT, "dtype is int8");
  }

  @Test
  public void fallbackNoticeIsNotAnError() {
    UserMessage m = ErrorMessages.fallbackNotice(List.of(new AcceleratorAttempt(Backend.GPU,
        AcceleratorAttempt.Stage.FIRST_RUN, new RuntimeException("GPU delegate failed"))),
        Backend.CPU);
    assertEquals(UserMessage.Kind.FALLBACK, m.kind);
    assertTrue(!m.isError());
    assertEquals("GPU failed its first run (RuntimeException: GPU delegate failed); running on the"
        + " CPU instead.", m.text);
  }

  @Test
  public void briefIsOneShortLine() {
    assertEquals("IllegalStateException", ErrorMessages.brief(new IllegalStateException()));
    assertEquals("RuntimeException: first", ErrorMessages.brief(new RuntimeException("first\nsecond")));
    String longText = "x".repeat(500);
    assertEquals(160, ErrorMessages.brief(new RuntimeException(longText)).length());
  }
}
