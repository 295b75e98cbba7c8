package dev.mlops.runtime.security;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.ModelVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The file manifest of a model version: each artifact file's path and SHA-256. Its text is what a
 * {@link dev.mlops.api.ManifestSignature} signs:
 *
 * <pre>
 * path TAB sha256 LF      one line per file, sorted by path, UTF-8, no header
 * </pre>
 *
 * <p>Paths are relative with {@code /} separators; digests are 64 lower-case hex digits. Paths are
 * sorted by {@link String#compareTo}, which for ASCII paths is byte order ({@code LC_ALL=C sort}).
 * The SHA-256 of the text is the version's {@link ModelVersion#digest()}, so a pipeline can compute
 * the text outside Java and check it against the registry.
 *
 * <p>Immutable and thread-safe.
 */
public final class Manifest {

  private final List<ArtifactFile> files;
  private final String text;

  private Manifest(List<ArtifactFile> files) {
    List<ArtifactFile> sorted = new ArrayList<>(files);
    sorted.sort(Comparator.comparing(ArtifactFile::path));
    Set<String> seen = new LinkedHashSet<>();
    StringBuilder sb = new StringBuilder();
    for (ArtifactFile f : sorted) {
      if (!seen.add(f.path())) {
        throw new IllegalArgumentException("manifest lists " + f.path() + " twice");
      }
      sb.append(f.path()).append('\t').append(f.sha256()).append('\n');
    }
    if (sorted.isEmpty()) {
      throw new IllegalArgumentException("a manifest lists at least one file");
    }
    this.files = List.copyOf(sorted);
    this.text = sb.toString();
  }

  /**
   * The manifest of these files. @throws IllegalArgumentException if a path repeats or none is
   * given
   */
  public static Manifest of(List<ArtifactFile> files) {
    return new Manifest(Objects.requireNonNull(files, "files"));
  }

  /** The manifest of a registered version. */
  public static Manifest of(ModelVersion version) {
    return new Manifest(version.files());
  }

  /**
   * The manifest the registry will record when it registers {@code source}: for a file, that file
   * under its own name; for a directory, every regular file under it. Use it to sign an artifact
   * before registering it. Stream sources cannot be read twice and are refused.
   *
   * @throws IllegalArgumentException for a stream source, or a directory holding a symbolic link
   * @throws UncheckedIOException if a file cannot be read
   */
  public static Manifest of(ArtifactSource source) {
    Objects.requireNonNull(source, "source");
    try {
      if (source instanceof ArtifactSource.FileSource) {
        Path file = ((ArtifactSource.FileSource) source).file();
        return new Manifest(List.of(fileEntry(file, file.getFileName().toString())));
      }
      if (source instanceof ArtifactSource.DirectorySource) {
        Path dir = ((ArtifactSource.DirectorySource) source).directory();
        List<ArtifactFile> out = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
          for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
            if (Files.isSymbolicLink(p)) {
              throw new IllegalArgumentException(
                  dir + " contains the symbolic link " + dir.relativize(p));
            }
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
              out.add(
                  fileEntry(
                      p, dir.relativize(p).toString().replace(java.io.File.separatorChar, '/')));
            }
          }
        }
        return new Manifest(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the artifact " + source + ": " + e.getMessage(), e);
    }
    throw new IllegalArgumentException(
        "cannot compute the manifest of a stream source (it can be read only once); write it to a file first");
  }

  private static ArtifactFile fileEntry(Path file, String path) throws IOException {
    MessageDigest md = sha256();
    long size = 0;
    byte[] buf = new byte[64 * 1024];
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
        size += n;
      }
    }
    return new ArtifactFile(path, size, HexFormat.of().formatHex(md.digest()));
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** The files, sorted by path. */
  public List<ArtifactFile> files() {
    return files;
  }

  /** The paths, sorted. */
  public List<String> paths() {
    return files.stream().map(ArtifactFile::path).toList();
  }

  /** The manifest text (see the class comment). */
  public String text() {
    return text;
  }

  /** The manifest text in UTF-8: the bytes a signature signs. */
  public byte[] bytes() {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** Lower-case hex SHA-256 of {@link #bytes()}; equals {@link ModelVersion#digest()}. */
  public String sha256Hex() {
    return HexFormat.of().formatHex(sha256().digest(bytes()));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Manifest && ((Manifest) o).text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return "Manifest[" + files.size() + " files, sha256 " + sha256Hex() + "]";
  }
}
