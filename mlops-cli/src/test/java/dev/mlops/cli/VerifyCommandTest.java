package dev.mlops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trial load's class path stays short whatever this JVM's is. */
class VerifyCommandTest {

  @TempDir Path scratch;

  @Test
  void aLongClassPathBecomesAManifestJarListingEveryEntry() throws Exception {
    String cp = System.getProperty("java.class.path");
    String saved = cp;
    String entries =
        String.join(
            java.io.File.pathSeparator,
            java.util.Collections.nCopies(60, "/opt/lib/some-library-1.2.3.jar"));
    System.setProperty("java.class.path", entries);
    try {
      String result = VerifyCommand.shortClassPath(scratch);
      assertThat(result).isEqualTo(scratch.resolve("classpath.jar").toString());
      try (JarFile jar = new JarFile(result)) {
        String listed = jar.getManifest().getMainAttributes().getValue("Class-Path");
        assertThat(listed.split(" "))
            .hasSize(60)
            .containsOnly("file:/opt/lib/some-library-1.2.3.jar");
      }
      System.setProperty("java.class.path", "/opt/mlops.jar");
      assertThat(VerifyCommand.shortClassPath(scratch)).isEqualTo("/opt/mlops.jar");
    } finally {
      System.setProperty("java.class.path", saved);
    }
  }
}
