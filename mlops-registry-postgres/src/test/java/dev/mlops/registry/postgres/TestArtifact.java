package dev.mlops.registry.postgres;

import dev.mlops.api.ArtifactFile;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/** An artifact's files with their bytes, listed as a registry lists them (sorted by path). */
final class TestArtifact {

  final Map<String, byte[]> content;
  final List<ArtifactFile> files;
  final String digest;

  private TestArtifact(Map<String, byte[]> content) {
    this.content = new TreeMap<>(content);
    List<ArtifactFile> list = new ArrayList<>();
    this.content.forEach(
        (path, bytes) -> list.add(new ArtifactFile(path, bytes.length, Storage.sha256Hex(bytes))));
    this.files = List.copyOf(list);
    this.digest = GovernedRegistry.manifestDigest(files);
  }

  static TestArtifact of(Map<String, byte[]> content) {
    return new TestArtifact(content);
  }

  /** Deterministic bytes: the same seed gives the same bytes. */
  static byte[] noise(long seed, int length) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  long totalBytes() {
    return files.stream().mapToLong(ArtifactFile::size).sum();
  }

  ArtifactFile file(String path) {
    return files.stream().filter(f -> f.path().equals(path)).findFirst().orElseThrow();
  }

  /** Writes the files into a new directory under {@code parent}; returns it. */
  Path writeTo(Path parent) {
    try {
      Path dir = Files.createTempDirectory(parent, "source-");
      for (Map.Entry<String, byte[]> e : content.entrySet()) {
        Path f = dir.resolve(e.getKey());
        Files.createDirectories(f.getParent());
        Files.write(f, e.getValue());
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every regular file under {@code dir} by relative path, with its bytes. */
  static Map<String, byte[]> read(Path dir) {
    Map<String, byte[]> out = new TreeMap<>();
    try (var walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (Files.isRegularFile(p)) {
          out.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Whether {@code dir} holds exactly these files with these bytes. */
  boolean isExactlyIn(Path dir) {
    Map<String, byte[]> found = read(dir);
    if (!found.keySet().equals(content.keySet())) {
      return false;
    }
    return content.entrySet().stream()
        .allMatch(e -> java.util.Arrays.equals(e.getValue(), found.get(e.getKey())));
  }
}
