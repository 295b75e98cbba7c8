package dev.mlops.runtime.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Files outside the registry root that an attack aims at: a secret to exfiltrate, a shell rc file
 * to write into, a name a dangling link points at. Every attack test records their state before the
 * attack and checks after it that nothing outside the root was created, changed or removed.
 */
public final class Decoys {

  private final Path dir;
  private final SortedMap<String, String> before;

  private Decoys(Path dir) {
    this.dir = dir;
    this.before = state();
  }

  /**
   * Creates {@code dir} with a secret ({@code secret.key}), an rc file ({@code .bashrc}, whose last
   * line has no newline, as the audit append once truncated) and a large file, and records them.
   */
  public static Decoys in(Path dir) {
    try {
      Files.createDirectories(dir);
      byte[] secret = new byte[4096];
      ThreadLocalRandom.current().nextBytes(secret);
      Files.write(dir.resolve("secret.key"), secret);
      Files.writeString(dir.resolve(".bashrc"), "export PATH=/usr/bin\nalias ll='ls -l'");
      byte[] big = new byte[1 << 20];
      ThreadLocalRandom.current().nextBytes(big);
      Files.write(dir.resolve("weights.bin"), big);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Decoys(dir);
  }

  /** The directory holding the decoys. */
  public Path dir() {
    return dir;
  }

  /** A decoy file, by name. */
  public Path file(String name) {
    return dir.resolve(name);
  }

  /** The secret's bytes, to check that no output returns them. */
  public byte[] secret() {
    try {
      return Files.readAllBytes(dir.resolve("secret.key"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A path in the decoy directory that does not exist yet (the target of a dangling link). */
  public Path absent(String name) {
    Path p = dir.resolve(name);
    assertThat(p).doesNotExist();
    return p;
  }

  /** Fails unless every decoy holds the bytes it held when recorded and nothing was added. */
  public void assertUntouched() {
    assertThat(state()).as("files outside the registry root").isEqualTo(before);
  }

  private SortedMap<String, String> state() {
    SortedMap<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        String rel = dir.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          out.put(rel, "link");
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          out.put(rel.isEmpty() ? "." : rel, "dir");
        } else {
          out.put(rel, sha256(Files.readAllBytes(p)));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
