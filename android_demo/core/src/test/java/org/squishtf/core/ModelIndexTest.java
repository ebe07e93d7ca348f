package org.squishtf.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import org.junit.Test;

public class ModelIndexTest {
  static final String SHA_A = "d38aa90c9b86ad3014995f338a74923664b6e3cbefe73e64eeffdd4e87454a7c";
  static final String SHA_B = "a159c6a4e3f12cfb6b6fcaed3b2ccd4f8e5dee206827939031cab4695340af3c";

  /** The format squish-report writes (squish_tf.models/2), with one unknown key per level. */
  static final String INDEX = "{\n"
      + " \"format\": \"squish_tf.models/2\", \"written_by\": \"squish-report 9\",\n"
      + " \"models\": [\n"
      + "  {\"name\": \"squishednet-1\", \"title\": \"SquishedNet-1\", \"dir\": \"squishednet-1\",\n"
      + "   \"dataset\": \"fashion_mnist\", \"num_classes\": 10, \"image_size\": 64,\n"
      + "   \"labels\": \"labels.txt\", \"preprocess\": \"preprocess.json\", \"generation\": 10,\n"
      + "   \"files\": [\n"
      + "    {\"file\": \"model.tflite\", \"precision\": \"float32\", \"sha256\": \"" + SHA_A + "\",\n"
      + "     \"bytes\": 844640, \"top1\": 0.91, \"latency_ms_p50_b1\": 1.2, \"latency_threads\": 1,\n"
      + "     \"input\": {\"name\": \"image\", \"shape\": [1, 64, 64, 3], \"dtype\": \"float32\"},\n"
      + "     \"output\": {\"name\": \"probabilities\", \"shape\": [1, 10], \"dtype\": \"float32\"}},\n"
      + "    {\"file\": \"model_int8.tflite\", \"precision\": \"int8\", \"sha256\": \"" + SHA_B + "\",\n"
      + "     \"bytes\": 45000, \"top1\": 0.90, \"latency_ms_p50_b1\": 0.6, \"latency_threads\": 1,\n"
      + "     \"input\": {\"name\": \"image\", \"shape\": [1, 64, 64, 3], \"dtype\": \"int8\",\n"
      + "               \"scale\": 0.003921568859368563, \"zero_point\": -128},\n"
      + "     \"output\": {\"name\": \"probabilities\", \"shape\": [1, 10], \"dtype\": \"int8\",\n"
      + "                \"scale\": 0.00390625, \"zero_point\": -128, \"axis\": null}}\n"
      + "   ]},\n"
      + "  {\"name\": \"tiny\", \"dir\": \"tiny\", \"num_classes\": 2, \"image_size\": 8,\n"
      + "   \"labels\": \"labels.txt\", \"preprocess\": \"preprocess.json\",\n"
      + "   \"files\": [{\"file\": \"model.tflite\", \"precision\": \"float32\", \"sha256\": \""
      + SHA_A + "\", \"bytes\": 10,\n"
      + "     \"input\": {\"name\": \"x\", \"shape\": [1, 8, 8, 3], \"dtype\": \"float32\"},\n"
      + "     \"output\": {\"name\": \"y\", \"shape\": [1, 2], \"dtype\": \"float32\"}}]}\n"
      + " ]\n"
      + "}\n";

  private static String rejected(String json) {
    try {
      ModelIndex.parse(json);
    } catch (ModelIndexException e) {
      return e.getMessage();
    }
    fail("accepted " + json);
    return null;
  }

  private static void assertContains(String message, String... parts) {
    for (String p : parts) {
      assertTrue("\"" + message + "\" lacks \"" + p + "\"", message.contains(p));
    }
  }

  @Test
  public void readsModelsFilesAndTensorContracts() {
    ModelIndex index = ModelIndex.parse(INDEX);
    assertEquals(2, index.models.size());
    ModelEntry m = index.models.get(0);
    assertEquals("squishednet-1", m.name);
    assertEquals("SquishedNet-1", m.title);
    assertEquals("fashion_mnist", m.dataset);
    assertEquals(10, m.numClasses);
    assertEquals(64, m.imageSize);
    assertEquals("labels.txt", m.labels);
    assertEquals("preprocess.json", m.preprocess);
    ModelFile f32 = m.files.get(0);
    assertEquals("model.tflite", f32.file);
    assertEquals(SHA_A, f32.sha256);
    assertEquals(844640L, f32.bytes);
    assertEquals(0.91, f32.top1, 0);
    assertEquals(1.2, f32.latencyMsP50, 0);
    assertEquals(1, f32.latencyThreads);
    assertEquals("image", f32.input.name);
    assertArrayEquals(new int[] {1, 64, 64, 3}, f32.input.shape());
    assertNull(f32.input.quantization);
    ModelFile i8 = m.files.get(1);
    assertEquals("int8", i8.precision);
    assertTrue(i8.input.isInt8());
    assertEquals(Float.intBitsToFloat(0x3b808081), i8.input.quantization.scale, 0f);  // exact
    assertEquals(-128, i8.input.quantization.zeroPoint);
    assertEquals(1 / 256f, i8.output.quantization.scale, 0f);
    ModelEntry tiny = index.models.get(1);
    assertEquals("tiny", tiny.title);  // no title: the name
    assertNull(tiny.dataset);
    assertTrue(Double.isNaN(tiny.files.get(0).top1));
    assertEquals(-1, tiny.files.get(0).latencyThreads);
  }

  @Test
  public void thePickerListsEveryModelAndPrecision() {
    List<ModelChoice> choices = ModelIndex.parse(INDEX).choices();
    assertEquals(3, choices.size());
    assertEquals("SquishedNet-1 \u00b7 float32 \u00b7 844.6 KB \u00b7 top-1 91.0% \u00b7 1.2 ms",
        choices.get(0).label());
    assertEquals("SquishedNet-1 \u00b7 int8 \u00b7 45.0 KB \u00b7 top-1 90.0% \u00b7 0.6 ms",
        choices.get(1).label());
    assertEquals("tiny \u00b7 float32 \u00b7 0.0 KB", choices.get(2).label());
    assertEquals("models/squishednet-1/model_int8.tflite", choices.get(1).assetPath("models"));
    assertEquals("models/squishednet-1/labels.txt", choices.get(1).siblingPath("models",
        "labels.txt"));
    assertEquals("squishednet-1/model_int8.tflite", choices.get(1).key());
  }

  @Test
  public void rejectsOtherFormats() {
    assertContains(rejected("[{\"name\": \"a\", \"dir\": \"a\"}]"), "old list format",
        "squish_tf.models/2", "re-publish");
    assertContains(rejected(INDEX.replace("squish_tf.models/2", "squish_tf.models/3")),
        "format is \"squish_tf.models/3\"");
    assertContains(rejected("{\"models\": []}"), "format is null");
    assertContains(rejected("{\"format\": \"squish_tf.models/2\", \"models\": []}"),
        "models.json.models must be a non-empty list");
    assertContains(rejected("{\"format\": "), "not valid JSON");
  }

  @Test
  public void namesWhereARequiredKeyIsMissingOrMistyped() {
    assertContains(rejected(INDEX.replace("\"dtype\": \"float32\"},\n     \"output\"",
        "\"type\": \"float32\"},\n     \"output\"")), "models[0].files[0].input lacks \"dtype\"");
    assertContains(rejected(INDEX.replace("\"scale\": 0.003921568859368563, ", "")),
        "models[0].files[1].input lacks \"scale\"");
    assertContains(rejected(INDEX.replace("\"zero_point\": -128},\n     \"output\"",
        "\"zero_point\": -129},\n     \"output\"")), "zero_point must be an integer in -128..127");
    assertContains(rejected(INDEX.replace("\"num_classes\": 10", "\"num_classes\": \"10\"")),
        "models[0].num_classes must be an integer");
    assertContains(rejected(INDEX.replace("[1, 64, 64, 3], \"dtype\": \"float32\"",
        "[1, 64.5, 64, 3], \"dtype\": \"float32\"")), "models[0].files[0].input.shape[1]");
    assertContains(rejected(INDEX.replace("\"bytes\": 844640, ", "")),
        "models[0].files[0] lacks \"bytes\"");
    assertContains(rejected(INDEX.replace(SHA_B, "abc")), "sha256 must be 64 hex digits");
  }

  @Test
  public void rejectsPathsAndDuplicates() {
    assertContains(rejected(INDEX.replace("\"dir\": \"tiny\"", "\"dir\": \"../etc\"")),
        "models[1].dir must be a plain file name");
    assertContains(rejected(INDEX.replace("\"file\": \"model_int8.tflite\"",
        "\"file\": \"model.tflite\"")), "lists model.tflite twice");
    assertContains(rejected(INDEX.replace("\"name\": \"tiny\"", "\"name\": \"squishednet-1\"")),
        "\"squishednet-1\" appears twice");
  }
}
