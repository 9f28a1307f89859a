package dev.durablesessions.cluster.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The demo agent's answers: short by default, ten times as long when asked for something long (the tour needs time to act mid-answer). */
class DemoAnswerTest {
  @Test
  void aQuestionWithTheWordLongGetsTenTimesTheTokens() {
    List<String> usual = DemoAgent.answerTo("hello agent");
    List<String> longer = DemoAgent.answerTo("something LONG,");
    assertEquals(10 * usual.size() + 10, longer.size());
    assertTrue(longer.get(0).startsWith("(1/10)"));
    // Only the word counts: "belong" does not (both questions are two words, like "hello agent").
    assertEquals(usual.size(), DemoAgent.answerTo("belong here").size());
    assertEquals(10 * DemoAgent.answerTo("how many").size() + 10, DemoAgent.answerTo("how long").size());
  }
}
