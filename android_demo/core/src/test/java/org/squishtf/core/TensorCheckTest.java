package org.squishtf.core;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

public class TensorCheckTest {
  private static final TensorSpec FLOAT_IN = new TensorSpec("image", new int[] {1, 64, 64, 3},
      "float32", null);
  private static final TensorSpec INT8_IN = new TensorSpec("image", new int[] {1, 64, 64, 3},
      "int8", new Quantization(1 / 255f, -128));
  private static final TensorSpec FLOAT_OUT = new TensorSpec("probabilities", new int[] {1, 10},
      "float32", null);

  private static String inputRejected(int[] shape, String dtype, TensorSpec declared) {
    try {
      TensorCheck.input(shape, dtype, 64, declared);
    } catch (TensorMismatchException e) {
      return e.getMessage();
    }
    fail("accepted input " + java.util.Arrays.toString(shape) + " " + dtype);
    return null;
  }

  private static void assertContains(String message, String... parts) {
    for (String p : parts) {
      assertTrue("\"" + message + "\" lacks \"" + p + "\"", message.contains(p));
    }
  }

  @Test
  public void acceptsTheContractsTensors() {
    TensorCheck.input(new int[] {1, 64, 64, 3}, "float32", 64, FLOAT_IN);
    TensorCheck.input(new int[] {1, 64, 64, 3}, "int8", 64, INT8_IN);
    TensorCheck.output(new int[] {1, 10}, "float32", 10, FLOAT_OUT);
  }

  @Test
  public void namesEveryMismatchingInputDimension() {
    assertContains(inputRejected(new int[] {2, 64, 64, 3}, "float32", FLOAT_IN),
        "dimension 0 (batch) is 2, expected 1");
    assertContains(inputRejected(new int[] {1, 32, 64, 3}, "float32", FLOAT_IN),
        "dimension 1 (height) is 32, expected 64", "image_size 64 in preprocess.json");
    assertContains(inputRejected(new int[] {1, 64, 63, 3}, "float32", FLOAT_IN),
        "dimension 2 (width) is 63, expected 64");
    assertContains(inputRejected(new int[] {1, 64, 64, 1}, "float32", FLOAT_IN),
        "dimension 3 (channels) is 1, expected 3", "[1, 64, 64, 1]", "[1, 64, 64, 3]");
    assertContains(inputRejected(new int[] {64, 64, 3}, "float32", FLOAT_IN),
        "rank 3", "expected rank 4");
    assertContains(inputRejected(new int[] {}, "float32", FLOAT_IN), "rank 0");
  }

  @Test
  public void namesDtypeMismatches() {
    assertContains(inputRejected(new int[] {1, 64, 64, 3}, "int8", FLOAT_IN),
        "input dtype is int8 but models.json says float32");
    assertContains(inputRejected(new int[] {1, 64, 64, 3}, "float32", INT8_IN),
        "input dtype is float32 but models.json says int8");
    TensorSpec uint8 = new TensorSpec("image", new int[] {1, 64, 64, 3}, "uint8", null);
    assertContains(inputRejected(new int[] {1, 64, 64, 3}, "uint8", uint8),
        "declares input dtype uint8", "[float32, int8]");
  }

  @Test
  public void checksWhatModelsJsonDeclaresToo() {
    TensorSpec stale = new TensorSpec("image", new int[] {1, 32, 32, 3}, "float32", null);
    assertContains(inputRejected(new int[] {1, 64, 64, 3}, "float32", stale),
        "models.json says input shape [1, 32, 32, 3]", "[1, 64, 64, 3]");
  }

  @Test
  public void checksTheOutputAgainstTheLabels() {
    try {
      TensorCheck.output(new int[] {1, 12}, "float32", 10, FLOAT_OUT);
      fail("accepted 12 outputs for 10 labels");
    } catch (TensorMismatchException e) {
      assertContains(e.getMessage(), "output dimension 1 (classes) is 12, expected 10",
          "10 labels in labels.txt");
    }
    try {
      TensorCheck.output(new int[] {10}, "float32", 10, FLOAT_OUT);
      fail("accepted a rank-1 output");
    } catch (TensorMismatchException e) {
      assertContains(e.getMessage(), "output has rank 1", "expected rank 2 [1, 10]");
    }
  }

  @Test
  public void int8NeedsQuantizationParametersAndOnlyInt8HasThem() {
    try {
      new TensorSpec("image", new int[] {1, 64, 64, 3}, "int8", null);
      fail("int8 without scale and zero point");
    } catch (IllegalArgumentException expected) {
      assertContains(expected.getMessage(), "int8 tensor needs quantization");
    }
    try {
      new TensorSpec("image", new int[] {1, 64, 64, 3}, "float32", new Quantization(1f, 0));
      fail("float32 with quantization");
    } catch (IllegalArgumentException expected) {
      assertContains(expected.getMessage(), "only an int8 tensor has them");
    }
  }
}
