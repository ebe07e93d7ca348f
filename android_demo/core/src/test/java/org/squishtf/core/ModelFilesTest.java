package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import org.junit.Test;

public class ModelFilesTest {
  private static final byte[] ABC = "abc".getBytes(StandardCharsets.US_ASCII);
  private static final String ABC_SHA =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";  // FIPS 180-2 example

  private static ModelFile file(String sha, long bytes) {
    return new ModelFile("model.tflite", "float32", sha, bytes, Double.NaN, Double.NaN, -1,
        new TensorSpec("image", new int[] {1, 1, 1, 3}, "float32", null),
        new TensorSpec("p", new int[] {1, 1}, "float32", null));
  }

  @Test
  public void hashesLikeSha256sum() {
    assertEquals(ABC_SHA, ModelFiles.sha256(ABC));
  }

  @Test
  public void acceptsTheDescribedFile() throws ModelFileException {
    ModelFiles.verify("models/a/model.tflite", ABC, file(ABC_SHA, 3));
  }

  @Test
  public void namesTruncatedAndReplacedFiles() {
    try {
      ModelFiles.verify("models/a/model.tflite", ABC, file(ABC_SHA, 4));
      fail("accepted a 3-byte file declared as 4 bytes");
    } catch (ModelFileException e) {
      assertEquals("models/a/model.tflite", e.path);
      assertTrue(e.getMessage(), e.getMessage().contains("is 3 bytes but models.json says 4"));
    }
    try {
      ModelFiles.verify("models/a/model.tflite", ABC, file("0".repeat(64), 3));
      fail("accepted a file with another checksum");
    } catch (ModelFileException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("SHA-256 ba7816bf8f01"));
    }
  }
}
