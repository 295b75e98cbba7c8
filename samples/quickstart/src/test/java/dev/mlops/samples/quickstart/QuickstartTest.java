package dev.mlops.samples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.testmodels.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class QuickstartTest {

  @Test
  void quickstartServesBothVersionsWithoutAFailedCallAndPrintsTheirFigures() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Quickstart.Summary s =
        Quickstart.run(new PrintStream(bytes, true, StandardCharsets.UTF_8), 400);
    String out = bytes.toString(StandardCharsets.UTF_8);

    assertThat(s.failed()).isZero();
    assertThat(s.served()).containsOnlyKeys(1L, 2L);
    assertThat(s.sessionsOpened()).isEqualTo(2).isEqualTo(s.sessionsClosed());
    // Callers cycle through the held-out rows, so each version's accuracy is close to what
    // training reported (exactly equal over whole passes); v2 must beat v1 as it did there.
    double a1 = s.correct().get(1L) / (double) s.served().get(1L);
    double a2 = s.correct().get(2L) / (double) s.served().get(2L);
    assertThat(a1)
        .isCloseTo(
            TestModels.reportedAccuracy(TestModels.BREAST_CANCER_V1),
            org.assertj.core.data.Offset.offset(0.01));
    assertThat(a2)
        .isCloseTo(
            TestModels.reportedAccuracy(TestModels.BREAST_CANCER_V2),
            org.assertj.core.data.Offset.offset(0.01));
    assertThat(out)
        .contains(
            "swapped models:/cancer@production from v1 to v2",
            "failed calls: 0",
            "SET_ALIAS",
            "mlops.predictions{arm=stable,model=cancer,outcome=success,version=1}",
            "mlops.swaps");
    // Only the two shifted features raise a drift alarm.
    assertThat(s.driftAlarms()).containsExactly("f0", "f7");
  }
}
