package dev.mlops.runtime.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON reader refuses what could exhaust the stack or the heap, with a typed error. */
class JsonLimitsTest {

  private static String arrays(int depth) {
    return "[".repeat(depth) + "]".repeat(depth);
  }

  private static String objects(int depth) {
    return "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
  }

  @Test
  void nestingUpToTheLimitIsRead() {
    Object v = Json.parse(arrays(Json.MAX_DEPTH));
    for (int i = 1; i < Json.MAX_DEPTH; i++) {
      assertThat(v).isInstanceOf(List.class);
      v = ((List<?>) v).get(0);
    }
    assertThat(v).isEqualTo(List.of());
    assertThat(Json.parseObject(objects(Json.MAX_DEPTH))).containsOnlyKeys("a");
    // Siblings do not add up: depth is what is open, not what was seen.
    assertThat((List<?>) Json.parse("[" + (arrays(Json.MAX_DEPTH - 1) + ",").repeat(100) + "1]"))
        .hasSize(101);
  }

  @Test
  void nestingPastTheLimitIsRefusedWhereItStarts() {
    assertThatThrownBy(() -> Json.parse(arrays(Json.MAX_DEPTH + 1)))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessage("malformed JSON at offset 64: arrays and objects nested deeper than 64");
    assertThatThrownBy(() -> Json.parseObject(objects(100_000)))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessage("malformed JSON at offset 320: arrays and objects nested deeper than 64");
    // Even nesting deep enough to overflow any stack is a typed error.
    assertThatThrownBy(() -> Json.parse("[".repeat(1_000_000)))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessage("malformed JSON at offset 64: arrays and objects nested deeper than 64");
  }

  @Test
  void textLongerThanTheLimitIsRefusedBeforeParsing() {
    String text = "\"" + "x".repeat(Json.MAX_CHARS - 1) + "\"";
    assertThatThrownBy(() -> Json.parse(text))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "JSON text of 16777217 characters is longer than the 16777216 this reader accepts");
    String longest = "\"" + "x".repeat(Json.MAX_CHARS - 2) + "\"";
    assertThat((String) Json.parse(longest)).hasSize(Json.MAX_CHARS - 2);
  }

  @Test
  void badEscapesAndNumbersAreMalformedJsonWithShortMessages() {
    assertThatThrownBy(() -> Json.parse("\"\\u+12a\""))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessage("malformed JSON at offset 3: bad \\u escape");
    assertThatThrownBy(() -> Json.parse("\"\\u12"))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessage("malformed JSON at offset 5: unexpected end");
    String digits = "9".repeat(100_000);
    assertThatThrownBy(() -> Json.parse(digits))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "malformed JSON at offset 100000: bad number "
                + "9".repeat(40)
                + "... (100000 characters)");
  }

  @Test
  void whatTheWriterWritesIsReadBack() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("s", "tab\t\"quote\" \u0001 é");
    m.put("n", 42L);
    m.put("d", 0.5);
    m.put("b", true);
    m.put("z", null);
    m.put("l", List.of(1L, List.of(2L, Map.of("k", "v"))));
    assertThat(Json.parseObject(Json.write(m))).isEqualTo(m);
  }
}
