package dev.mlops.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModelSignatureTest {

  private static TensorSpec f32(String name, long... shape) {
    return TensorSpec.of(name, ElementType.FLOAT, shape);
  }

  /** Silero VAD legacy and v5, as their graphs declare them. */
  private static final ModelSignature VAD_LEGACY =
      new ModelSignature(
          List.of(
              f32("input", -1, -1),
              TensorSpec.of("sr", ElementType.INT64),
              f32("h", 2, -1, 64),
              f32("c", 2, -1, 64)),
          List.of(f32("output", -1, 1), f32("hn", 2, -1, 64), f32("cn", 2, -1, 64)));

  private static final ModelSignature VAD_V5 =
      new ModelSignature(
          List.of(
              f32("input", -1, -1),
              f32("state", 2, -1, 128),
              TensorSpec.of("sr", ElementType.INT64)),
          List.of(f32("output", -1, 1), f32("stateN", -1, -1, -1)));

  @Test
  void aSignatureIsCompatibleWithItself() {
    assertThat(VAD_V5.incompatibilities(VAD_V5)).isEmpty();
  }

  @Test
  void namesEveryInputThatWentOrCameAndEveryOutputThatWent() {
    assertThat(VAD_LEGACY.incompatibilities(VAD_V5))
        .containsExactly(
            "input 'h' (float32[2,?,64]) is gone",
            "input 'c' (float32[2,?,64]) is gone",
            "input 'state' (float32[2,?,128]) is new",
            "output 'hn' (float32[2,?,64]) is gone",
            "output 'cn' (float32[2,?,64]) is gone");
  }

  @Test
  void onlyTheOutputsCallersReadCount() {
    assertThat(VAD_LEGACY.incompatibilities(VAD_V5, Set.of("output")))
        .containsExactly(
            "input 'h' (float32[2,?,64]) is gone",
            "input 'c' (float32[2,?,64]) is gone",
            "input 'state' (float32[2,?,128]) is new");
  }

  @Test
  void aFixedDimensionMayBecomeDynamicButNotTheOtherWayRound() {
    ModelSignature fixed = new ModelSignature(List.of(f32("x", 1, 4)), List.of(f32("y", 1, 2)));
    ModelSignature dynamic = new ModelSignature(List.of(f32("x", -1, 4)), List.of(f32("y", -1, 2)));
    assertThat(fixed.incompatibilities(dynamic)).isEmpty();
    assertThat(dynamic.incompatibilities(fixed))
        .containsExactly(
            "input 'x': dimension 0 was dynamic and is now fixed at 1 (float32[?,4] -> float32[1,4])");
  }

  @Test
  void namesTypeRankAndFixedDimensionChanges() {
    ModelSignature was =
        new ModelSignature(
            List.of(f32("a", -1, 4), f32("b", -1, 4), f32("c", -1, 4)),
            List.of(f32("y", -1), f32("z", -1)));
    ModelSignature now =
        new ModelSignature(
            List.of(
                TensorSpec.of("a", ElementType.DOUBLE, -1, 4), f32("b", -1, 4, 1), f32("c", -1, 5)),
            List.of(TensorSpec.of("y", ElementType.INT64, -1), f32("z", -1), f32("extra", -1)));
    assertThat(was.incompatibilities(now))
        .containsExactly(
            "input 'a': element type float32 became float64",
            "input 'b': rank 2 became 3 (float32[?,4] -> float32[?,4,1])",
            "input 'c': dimension 1 was 4 and is now 5 (float32[?,4] -> float32[?,5])",
            "output 'y': element type float32 became int64");
  }
}
