package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class StatusBoardTest {
  private static final UserMessage INFERENCE = new UserMessage(UserMessage.Kind.UNKNOWN,
      "Unexpected error: inference failed");
  private static final UserMessage GPU_NOTICE = new UserMessage(UserMessage.Kind.FALLBACK,
      "GPU failed; running on the CPU instead.");
  private static final UserMessage CONTRACT = new UserMessage(UserMessage.Kind.CONTRACT,
      "model input dimension 1 (height) is 32");

  @Test
  public void anErrorOutlivesLaterFramesOfTheSameSettings() {
    StatusBoard s = new StatusBoard();
    int g = s.settingsChanged();
    assertTrue(s.report(g, INFERENCE));
    assertFalse(s.frameSucceeded(g));
    assertFalse(s.frameSucceeded(g));
    assertEquals(INFERENCE, s.message());
  }

  @Test
  public void aSuccessfulFrameAfterTheUserChangedSomethingClearsIt() {
    StatusBoard s = new StatusBoard();
    int g1 = s.settingsChanged();
    s.report(g1, CONTRACT);
    int g2 = s.settingsChanged();
    assertEquals(CONTRACT, s.message());  // still there while the new model loads
    assertFalse("a late frame of the old settings does not count", s.frameSucceeded(g1));
    assertEquals(CONTRACT, s.message());
    assertTrue(s.frameSucceeded(g2));
    assertNull(s.message());
    assertFalse(s.frameSucceeded(g2));  // nothing left to clear
  }

  @Test
  public void aFallbackNoticeStaysWhileThoseSettingsRun() {
    StatusBoard s = new StatusBoard();
    int g = s.settingsChanged();
    s.report(g, GPU_NOTICE);
    for (int i = 0; i < 5; i++) {
      assertFalse(s.frameSucceeded(g));
    }
    assertEquals(GPU_NOTICE, s.message());
  }

  @Test
  public void newerMessagesReplaceOlderOnesAndStaleOnesAreIgnored() {
    StatusBoard s = new StatusBoard();
    int g1 = s.settingsChanged();
    s.report(g1, GPU_NOTICE);
    int g2 = s.settingsChanged();
    assertFalse("report from superseded settings", s.report(g1, INFERENCE));
    assertEquals(GPU_NOTICE, s.message());
    assertTrue(s.report(g2, CONTRACT));
    assertFalse("the same message again changes nothing", s.report(g2, CONTRACT));
    assertEquals(CONTRACT, s.message());
    assertEquals(g2, s.generation());
  }
}
