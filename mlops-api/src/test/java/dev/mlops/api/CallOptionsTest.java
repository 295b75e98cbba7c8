package dev.mlops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CallOptionsTest {

  @Test
  void noneHasNoDeadlineAndAnEmptyKey() {
    assertThat(CallOptions.NONE.deadline()).isEmpty();
    assertThat(CallOptions.NONE.requestKey()).isEmpty();
    assertThat(CallOptions.NONE).hasToString("CallOptions[deadline=none, requestKey=none]");
  }

  @Test
  void eachStepReturnsNewOptionsAndLeavesTheOldOnesAsTheyWere() {
    CallOptions keyed = CallOptions.NONE.requestKey("user-42");
    CallOptions both = keyed.deadline(Duration.ofMillis(50));
    assertThat(keyed.deadline()).isEmpty();
    assertThat(keyed.requestKey()).isEqualTo("user-42");
    assertThat(both.deadline()).contains(Duration.ofMillis(50));
    assertThat(both.requestKey()).isEqualTo("user-42");
    assertThat(both.requestKey("user-7").deadline())
        .as("a new key keeps the deadline")
        .contains(Duration.ofMillis(50));
    assertThat(CallOptions.NONE.deadline()).isEmpty();
    assertThat(both).hasToString("CallOptions[deadline=PT0.05S, requestKey='user-42']");
  }

  @Test
  void optionsWithTheSameDeadlineAndKeyAreEqual() {
    CallOptions a = CallOptions.NONE.deadline(Duration.ofSeconds(1)).requestKey("k");
    CallOptions b = CallOptions.NONE.requestKey("k").deadline(Duration.ofMillis(1000));
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a)
        .isNotEqualTo(a.requestKey("other"))
        .isNotEqualTo(a.deadline(Duration.ofSeconds(2)));
    assertThat(CallOptions.NONE.requestKey("")).isEqualTo(CallOptions.NONE);
  }

  @Test
  void aZeroOrNegativeDeadlineIsRefusedWhenTheOptionsAreMade() {
    for (Duration d : List.of(Duration.ZERO, Duration.ofNanos(-1), Duration.ofSeconds(-5))) {
      assertThatThrownBy(() -> CallOptions.NONE.deadline(d))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "timeout must be positive but was "
                  + d
                  + "; leave the deadline unset (CallOptions.NONE) for no deadline");
    }
    assertThatThrownBy(() -> CallOptions.NONE.deadline(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("timeout must not be null; leave the deadline unset for none");
    assertThatThrownBy(() -> CallOptions.NONE.requestKey(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("key must not be null; use \"\" for none");
  }
}
