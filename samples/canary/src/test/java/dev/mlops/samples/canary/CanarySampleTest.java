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

    assertThat(s.ends()).hasSize(3);
    assertThat(s.ends().get(0)).isEqualTo("abort: compared");
    assertThat(s.ends().get(1)).startsWith("rollback: auto-rollback: error rate ");
    assertThat(s.ends().get(2)).isEqualTo("promote: promoted: every step passed");
    // The shadow phase ran copies on v3 and compared each; no caller got v3 then. The sink's
    // summary of that rollout agrees with the runtime's own count.
    assertThat(s.shadow().mirrored()).isPositive();
    assertThat(s.shadowRollout().copies()).isEqualTo(s.shadow().mirrored());
    assertThat(s.shadowRollout().dropped()).isEqualTo(s.shadow().dropped());
    assertThat(s.shadowRollout().failed()).isZero();
    // v3 is another model (an MLP) than v1 (a logistic regression): their probabilities differ,
    // if only slightly on the sample's rows, which both classify the same.
    assertThat(s.shadowRollout().maxAbsDifference()).isPositive();
    assertThat(s.shadowRollout().latency().count()).isEqualTo(s.shadowRollout().copies());
    assertThat(out).containsPattern("\\nshadow +rollout +copies +dropped");
    assertThat(s.calls()).containsKeys("stable/v1", "candidate/v2", "candidate/v3");
    // Every failure is a call of the flaky candidate, which fails only on its chosen inputs.
    assertThat(out).contains("production -> v3", "rollback, candidate v2 at 0 %");
  }
}
