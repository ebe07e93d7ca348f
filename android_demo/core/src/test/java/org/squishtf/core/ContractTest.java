package org.squishtf.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

public class ContractTest {
  /** What squish_tf.preprocess.contract(64) writes (files.write_json: sorted keys). */
  static final String PYTHON = "{\n  \"channel_order\": \"RGB\",\n  \"crop\": \"center_square\",\n"
      + "  \"dtype\": \"float32\",\n  \"format\": \"squish_tf.preprocess/1\",\n"
      + "  \"image_size\": 64,\n  \"layout\": \"NHWC\",\n  \"offset\": 0.0,\n"
      + "  \"output\": \"probabilities\",\n  \"resize\": \"bilinear_half_pixel\",\n"
      + "  \"scale\": 0.00392156862745098\n}\n";

  private static String with(String key, String jsonValue) {
    return PYTHON.replaceFirst("\"" + key + "\": [^,\\n]+", "\"" + key + "\": " + jsonValue);
  }

  private static String rejected(String json) {
    try {
      Contract.parse(json);
    } catch (ContractException e) {
      return e.getMessage();
    }
    fail("accepted " + json);
    return null;
  }

  @Test
  public void parsesThePythonContract() {
    Contract c = Contract.parse(PYTHON);
    assertEquals(64, c.imageSize);
    assertFalse(c.bgr);
    assertArrayEquals(new float[] {1 / 255f, 1 / 255f, 1 / 255f}, c.scale, 0f);
    assertArrayEquals(new float[] {0, 0, 0}, c.offset, 0f);
    assertEquals(Contract.Output.PROBABILITIES, c.output);
    assertEquals(64 * 64 * 3, c.inputLength());
  }

  @Test
  public void acceptsPerChannelValuesBgrAndLogits() {
    String json = with("scale", "[0.5, 0.25, 2]");
    json = json.replace("\"offset\": 0.0", "\"offset\": [-1, 0, 1]")
        .replace("\"RGB\"", "\"BGR\"").replace("\"probabilities\"", "\"logits\"");
    Contract c = Contract.parse(json);
    assertTrue(c.bgr);
    assertArrayEquals(new float[] {0.5f, 0.25f, 2f}, c.scale, 0f);
    assertArrayEquals(new float[] {-1f, 0f, 1f}, c.offset, 0f);
    assertEquals(Contract.Output.LOGITS, c.output);
  }

  @Test
  public void rejectsAnUnknownFormat() {
    String msg = rejected(with("format", "\"squish_tf.preprocess/2\""));
    assertTrue(msg, msg.contains("squish_tf.preprocess/2") && msg.contains("update the app"));
  }

  @Test
  public void rejectsUnsupportedValues() {
    assertTrue(rejected(with("resize", "\"nearest\"")).contains("resize is \"nearest\""));
    assertTrue(rejected(with("crop", "\"none\"")).contains("crop"));
    assertTrue(rejected(with("layout", "\"NCHW\"")).contains("NCHW"));
    assertTrue(rejected(with("dtype", "\"uint8\"")).contains("dtype"));
    assertTrue(rejected(with("channel_order", "\"GRB\"")).contains("channel_order"));
    assertTrue(rejected(with("output", "\"sigmoid\"")).contains("output"));
    assertTrue(rejected(with("image_size", "64.5")).contains("integer"));
    assertTrue(rejected(with("image_size", "0")).contains("integer"));
    assertTrue(rejected(with("image_size", "\"64\"")).contains("image_size"));
    assertTrue(rejected(with("scale", "[1, 2]")).contains("list of 3"));
    assertTrue(rejected(with("scale", "1e99")).contains("finite"));
  }

  @Test
  public void rejectsUnknownAndMissingKeys() {
    assertTrue(rejected(PYTHON.replace("{", "{\"mean\": [1, 2, 3],")).contains("[mean]"));
    assertTrue(rejected(PYTHON.replace("  \"offset\": 0.0,\n", "")).contains("[offset]"));
  }

  @Test
  public void rejectsBrokenJson() {
    assertTrue(rejected("{\"format\": ").contains("not valid JSON"));
    assertTrue(rejected("[1, 2]").contains("JSON object"));
  }
}
