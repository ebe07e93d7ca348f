package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;
import org.junit.Test;

public class JsonModelIndexTest {
  @Test
  public void parsesNestedValuesAndEscapes() {
    Map<?, ?> m = (Map<?, ?>) Json.parse(" {\"a\": [1, -2.5e1, true, null], \"s\": \"x\\\"\\u00e9\\n\"} ");
    assertEquals(List.of(1.0, -25.0, true), ((List<?>) m.get("a")).subList(0, 3));
    assertNull(((List<?>) m.get("a")).get(3));
    assertEquals("x\"\u00e9\n", m.get("s"));
  }

  @Test
  public void rejectsMalformedJson() {
    for (String bad : new String[] {"{", "[1,]", "{\"a\":1}x", "{\"a\":1,\"a\":2}", "tru", "\"\\q\""}) {
      try {
        Json.parse(bad);
        fail("accepted " + bad);
      } catch (IllegalArgumentException e) {
        assertTrue(e.getMessage(), e.getMessage().startsWith("invalid JSON"));
      }
    }
  }

  @Test
  public void readsTheReportsModelsJson() {
    String json = "[{\"bytes\": 1234567, \"dir\": \"squishednet-1\", \"generation\": 3,"
        + " \"image_size\": 64, \"name\": \"squishednet-1\", \"num_classes\": 10,"
        + " \"title\": \"SquishedNet-1\", \"top1\": 0.91}, {\"name\": \"b\", \"dir\": \"b\"}]";
    List<ModelIndex.Entry> models = ModelIndex.parse(json);
    assertEquals(2, models.size());
    assertEquals("squishednet-1", models.get(0).dir);
    assertEquals("SquishedNet-1", models.get(0).title);
    assertEquals(0.91, models.get(0).top1, 0);
    assertEquals(1234567L, models.get(0).bytes);
    assertEquals("b", models.get(1).title);
    assertTrue(Double.isNaN(models.get(1).top1));
  }

  @Test
  public void rejectsAnEmptyOrBrokenIndex() {
    for (String bad : new String[] {"[]", "{}", "[{\"name\": \"x\"}]", "[1]"}) {
      try {
        ModelIndex.parse(bad);
        fail("accepted " + bad);
      } catch (IllegalArgumentException expected) {
        // names what is wrong with models.json
      }
    }
  }
}
