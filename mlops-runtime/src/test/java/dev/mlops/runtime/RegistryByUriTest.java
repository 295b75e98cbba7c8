package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.Registration;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import dev.mlops.testmodels.TestModels;
import java.net.URI;
import java.nio.file.Path;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A runtime opens its registry by URI, through the provider of the URI's scheme. */
class RegistryByUriTest {

  private static final AuditInfo CI = AuditInfo.by("ci", "test");

  @TempDir Path tmp;

  @Test
  void aFileUriOpensTheDirectoryRegistry() {
    Path dir = tmp.resolve("models");
    URI uri = URI.create("file:" + dir);
    try (Mlops mlops = Mlops.builder().registry(uri).build()) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "tiny", ArtifactSource.file(TestModels.copy(TestModels.TINY, tmp)))
                  .build(),
              CI);
      assertThat(
              mlops.predictor("models:/tiny/1", Codecs.floatRow()).predict(new float[4]).version())
          .isEqualTo(1);
      assertThat(mlops.registry()).isInstanceOf(GovernedRegistry.class);
      assertThat(LocalModelRegistry.root(mlops.registry())).contains(dir.toAbsolutePath());
    }
    // The same directory, by path and by URI, is one registry.
    try (Mlops again = Mlops.builder().localRegistry(dir).build()) {
      assertThat(again.registry().versions("tiny")).hasSize(1);
    }
  }

  @Test
  void theFileProviderIsFoundByServiceLoader() {
    assertThat(ServiceLoader.load(RegistryProvider.class).stream().map(p -> p.get().scheme()))
        .contains("file");
  }

  @Test
  void aSchemeNoProviderOpensFailsNamingTheSchemesThatExist() {
    assertThatThrownBy(() -> Mlops.builder().registry(URI.create("s3://bucket/models")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "no registry provider for 's3://bucket/models': expected a URI with one of the schemes")
        .hasMessageContaining("file:");
  }

  @Test
  void aFileUriOnAnotherHostIsRefused() {
    assertThatThrownBy(
            () -> Mlops.builder().registry(URI.create("file://fileserver/models")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("names the host 'fileserver'; a registry directory must be local");
  }

  @Test
  void aRegistryCanBeChosenOnlyOnce() {
    assertThatThrownBy(() -> Mlops.builder().localRegistry(tmp).registry(URI.create("file:" + tmp)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("registry: a registry was already set");
  }
}
