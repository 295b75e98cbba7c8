package dev.mlops.samples.canary;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CanarySampleTest {

  @Test
  void theFlakyCandidateIsRolledBackAndTheHealthyOneIsPromoted() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CanarySample.Summary s = CanarySample.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String out = bytes.toString(StandardCharsets.UTF_8);

    assertThat(s.ends()).hasSize(2);
    assertThat(s.ends().get(0)).startsWith("rollback: auto-rollback: error rate ");
    assertThat(s.ends().get(1)).isEqualTo("promote: promoted: every step passed");
    assertThat(s.calls()).containsKeys("stable/v1", "candidate/v2", "candidate/v3");
    // Every failure is a call of the flaky candidate, which fails only on its chosen inputs.
    assertThat(out).contains("production -> v3", "rollback, candidate v2 at 0 %");
  }
}
