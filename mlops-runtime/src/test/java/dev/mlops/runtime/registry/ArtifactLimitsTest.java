package dev.mlops.runtime.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactTooLargeException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * The limits counted while a new artifact is copied, for a source whose declared count or sizes
 * were within the limits when it was walked but that grew since.
 */
class ArtifactLimitsTest {

  @Test
  void aFileCopiedPastTheFileLimitStopsTheCopy() {
    ArtifactChecks.Limits limits = new ArtifactChecks.Limits(100, 2, "m");
    limits.countFile();
    limits.countFile();
    assertThatThrownBy(limits::countFile)
        .isInstanceOfSatisfying(
            ArtifactTooLargeException.class,
            e -> {
              assertThat(e.limit()).isEqualTo(ArtifactTooLargeException.Limit.FILES);
              assertThat(e.limitValue()).isEqualTo(2);
              assertThat(e.found()).isEqualTo(3);
              assertThat(e.limitBytes()).isEqualTo(-1);
            })
        .hasMessageContaining("holds at least 3 files (copying stopped there)")
        .hasMessageContaining("maxArtifactFiles");
  }

  @Test
  void bytesReadPastTheSizeLimitStopTheCopyOneBytePastIt() throws Exception {
    ArtifactChecks.Limits limits = new ArtifactChecks.Limits(10, 5, "m");
    limits.checkKnown(10);
    try (InputStream in = limits.wrap(new ByteArrayInputStream(new byte[64]))) {
      assertThatThrownBy(in::readAllBytes)
          .isInstanceOfSatisfying(
              ArtifactTooLargeException.class,
              e -> {
                assertThat(e.limit()).isEqualTo(ArtifactTooLargeException.Limit.BYTES);
                assertThat(e.sizeBytes()).isEqualTo(11);
              })
          .hasMessageContaining("at least 11 bytes (reading stopped there)")
          .hasMessageContaining("maxArtifactBytes");
    }
  }

  @Test
  void theOptionsAreValidatedAndSetOnce() {
    var b = dev.mlops.runtime.local.LocalModelRegistry.builder(java.nio.file.Path.of("unused"));
    assertThatThrownBy(() -> b.maxArtifactFiles(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxArtifactFiles must be >= 1 but was 0");
    b.maxArtifactFiles(5);
    assertThatThrownBy(() -> b.maxArtifactFiles(6))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("maxArtifactFiles was already set to 5");
  }
}
