package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;
import org.junit.Test;

public class JsonTest {
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
}
