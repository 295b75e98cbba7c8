package dev.mlops.samples.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class FleetSampleTest {

  @Test
  void threeInstancesEachSwitchOnBothMovesWithoutAFailedCall() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    FleetSample.Summary s = FleetSample.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String out = bytes.toString(StandardCharsets.UTF_8);

    assertThat(s.switchMillis()).hasSize(2);
    assertThat(s.switchMillis())
        .allSatisfy(m -> assertThat(m).containsOnlyKeys("instance-1", "instance-2", "instance-3"));
    assertThat(s.failed()).containsOnlyKeys("instance-1", "instance-2", "instance-3");
    assertThat(s.failed().values()).containsOnly(0L);
    assertThat(s.calls().values()).allSatisfy(n -> assertThat(n).isPositive());
    assertThat(out)
        .contains(
            "moved production v1 -> v2",
            "instance-3 switched to v2",
            "moved production v2 -> v1",
            "instance-1 switched to v1");
  }
}
