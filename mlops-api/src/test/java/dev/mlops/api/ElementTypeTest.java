package dev.mlops.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ElementTypeTest {

  @Test
  void byteWidthIsTheSizeOfOneDenseElementAndMinusOneForStrings() {
    Map<ElementType, Integer> widths = new EnumMap<>(ElementType.class);
    for (ElementType t : ElementType.values()) {
      widths.put(t, t.byteWidth());
    }
    assertThat(widths)
        .containsExactlyInAnyOrderEntriesOf(
            Map.ofEntries(
                Map.entry(ElementType.FLOAT, 4),
                Map.entry(ElementType.DOUBLE, 8),
                Map.entry(ElementType.INT8, 1),
                Map.entry(ElementType.UINT8, 1),
                Map.entry(ElementType.INT16, 2),
                Map.entry(ElementType.INT32, 4),
                Map.entry(ElementType.INT64, 8),
                Map.entry(ElementType.BOOL, 1),
                Map.entry(ElementType.STRING, -1),
                Map.entry(ElementType.FLOAT16, 2),
                Map.entry(ElementType.BFLOAT16, 2)));
  }
}
