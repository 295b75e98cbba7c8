package dev.mlops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TensorStackTest {

  @Test
  void stacksPartsAlongTheFirstDimensionInOrder() {
    Tensor a = Tensor.ofFloats(new float[] {1, 2, 3, 4}, 2, 2);
    Tensor b = Tensor.ofFloats(new float[] {5, 6}, 1, 2);
    Tensor stacked = Tensor.stack(List.of(a, b));
    assertThat(stacked).isEqualTo(Tensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 3, 2));
    assertThat(Tensor.stack(List.of(b, a)).floats()).containsExactly(5, 6, 1, 2, 3, 4);
    assertThat(
            Tensor.stack(
                List.of(Tensor.ofLongs(new long[] {7}, 1), Tensor.ofLongs(new long[0], 0))))
        .isEqualTo(Tensor.ofLongs(new long[] {7}, 1));
  }

  @Test
  void rowShapesAgreeOnTypeAndEveryDimensionButTheFirst() {
    Tensor a = Tensor.ofFloats(new float[] {1, 2}, 1, 2);
    assertThat(a.sameRowShape(Tensor.ofFloats(new float[6], 3, 2))).isTrue();
    assertThat(a.sameRowShape(Tensor.ofFloats(new float[3], 1, 3))).isFalse();
    assertThat(a.sameRowShape(Tensor.ofInts(new int[2], 1, 2))).isFalse();
    assertThat(a.sameRowShape(Tensor.ofFloats(new float[2], 2))).isFalse();
    Tensor scalar = Tensor.ofFloats(new float[] {1});
    assertThat(scalar.sameRowShape(scalar)).isFalse();
  }

  @Test
  void onePartIsReturnedAsItIs() {
    Tensor a = Tensor.ofInts(new int[] {1, 2}, 1, 2);
    assertThat(Tensor.stack(List.of(a))).isSameAs(a);
  }

  @Test
  void partsOfAnotherTypeOrRowShapeAreRefusedByName() {
    Tensor a = Tensor.ofFloats(new float[] {1, 2}, 1, 2);
    assertThatThrownBy(() -> Tensor.stack(List.of(a, Tensor.ofFloats(new float[] {1, 2, 3}, 1, 3))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot stack float32[1,3] onto float32[1,2]");
    assertThatThrownBy(() -> Tensor.stack(List.of(a, Tensor.ofDoubles(new double[] {1, 2}, 1, 2))))
        .hasMessage("cannot stack float64[1,2] onto float32[1,2]");
    assertThatThrownBy(() -> Tensor.stack(List.of(Tensor.ofFloats(new float[] {1}))))
        .hasMessageContaining("scalar");
    assertThatThrownBy(() -> Tensor.stack(List.of())).hasMessageContaining("no parts");
  }
}
