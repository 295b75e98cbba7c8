package dev.mlops.runtime.security;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.SignatureException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The signed statement about a model version: the model's name, its entry-point file and every
 * artifact file with its SHA-256. Its {@link #bytes()} are what a {@link
 * dev.mlops.api.ManifestSignature} signs, so a signature made for model {@code fraud} does not
 * verify a copy registered under another name, nor metadata that names another file as the model.
 *
 * <p>The encoding (format 1) is ASCII labels and UTF-8 strings, each string preceded by its length
 * in bytes, so that no choice of names can make two different manifests share their bytes:
 *
 * <pre>
 * "mlops-manifest 1" LF
 * "model " len ":" model-name LF
 * "entry " len ":" entry-point-path LF
 * "files " count LF
 * len ":" path " " sha256 LF        one line per file, sorted by the bytes of the path
 * </pre>
 *
 * <p>{@code len} is the decimal number of UTF-8 bytes of the string that follows the colon, {@code
 * count} the decimal number of files, both without leading zeros; {@code sha256} is 64 lower-case
 * hex digits; LF is the byte 0x0A. Paths are relative to the artifact directory with {@code /}
 * separators and are sorted by their UTF-8 bytes ({@code LC_ALL=C sort}); the entry point is one of
 * them. For example, model {@code fraud} with the files {@code model.onnx} and {@code
 * weights/w.bin}:
 *
 * <pre>
 * mlops-manifest 1
 * model 5:fraud
 * entry 10:model.onnx
 * files 2
 * 10:model.onnx 3b...(64 hex digits)
 * 13:weights/w.bin 9f...(64 hex digits)
 * </pre>
 *
 * <p>A path holding a control character (below U+0020, or U+007F), a string that is not valid
 * Unicode, or a path that is not portable ({@link ArtifactFile#unportableReason}: a Windows device
 * name such as {@code NUL.bin}, a segment ending in {@code .} or a space) cannot be in a manifest:
 * building one fails with a {@link SignatureException}, whether for signing, at registration or
 * when a stored version is verified.
 *
 * <p>The manifest is not the version's {@link ModelVersion#digest()}: that digest names the file
 * list alone (it addresses the stored files, which versions of several models may share), while the
 * manifest adds the model and the entry point.
 *
 * <p>Immutable and thread-safe.
 */
public final class Manifest {

  /** The first line of every manifest of this format, without its LF. */
  public static final String HEADER = "mlops-manifest 1";

  private final String model;
  private final String entryPoint;
  private final List<ArtifactFile> files;
  private final byte[] bytes;

  private Manifest(String model, String entryPoint, List<ArtifactFile> files) {
    ModelRef.checkName(model);
    if (files.isEmpty()) {
      throw new SignatureException(
          "the manifest of model '" + model + "' lists no file; expected at least its model file");
    }
    List<Entry> sorted = new ArrayList<>(files.size());
    for (ArtifactFile f : files) {
      sorted.add(new Entry(Objects.requireNonNull(f, "file"), utf8(f.path(), model)));
    }
    sorted.sort((a, b) -> Arrays.compareUnsigned(a.path, b.path));
    for (int i = 1; i < sorted.size(); i++) {
      if (Arrays.equals(sorted.get(i - 1).path, sorted.get(i).path)) {
        throw new SignatureException(
            "the manifest of model '"
                + model
                + "' lists the file "
                + sorted.get(i).file.path()
                + " twice; expected each path once");
      }
    }
    if (sorted.stream().noneMatch(e -> e.file.path().equals(entryPoint))) {
      throw new SignatureException(
          "the entry point "
              + printable(entryPoint)
              + " of model '"
              + model
              + "' is not among its files "
              + sorted.stream().map(e -> printable(e.file.path())).toList());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ascii(out, HEADER + "\n");
    ascii(out, "model ");
    field(out, model.getBytes(StandardCharsets.UTF_8));
    ascii(out, "\nentry ");
    field(out, utf8(entryPoint, model));
    ascii(out, "\nfiles " + sorted.size() + "\n");
    List<ArtifactFile> ordered = new ArrayList<>(sorted.size());
    for (Entry e : sorted) {
      field(out, e.path);
      ascii(out, " " + e.file.sha256() + "\n");
      ordered.add(e.file);
    }
    this.model = model;
    this.entryPoint = entryPoint;
    this.files = List.copyOf(ordered);
    this.bytes = out.toByteArray();
  }

  private record Entry(ArtifactFile file, byte[] path) {}

  private static void ascii(ByteArrayOutputStream out, String s) {
    out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
  }

  private static void field(ByteArrayOutputStream out, byte[] value) {
    ascii(out, value.length + ":");
    out.writeBytes(value);
  }

  /**
   * The UTF-8 bytes of a path, refusing what cannot be in a manifest: control characters (they
   * break every line-oriented tool that checks a manifest, and once let a file name pose as two
   * manifest lines), names that are not portable (on Windows they name a device, or another file)
   * and unpaired surrogates (which have no UTF-8 encoding, so two names would share one).
   */
  private static byte[] utf8(String path, String model) {
    Objects.requireNonNull(path, "path");
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new SignatureException(
            "the file name "
                + printable(path)
                + " of model '"
                + model
                + "' holds the control character U+"
                + String.format("%04X", (int) c)
                + " at index "
                + i
                + "; a signed manifest accepts no character below U+0020 nor U+007F: rename the"
                + " file");
      }
    }
    ArtifactFile.unportableReason(path)
        .ifPresent(
            why -> {
              throw new SignatureException(
                  "a manifest of model '"
                      + model
                      + "' cannot list "
                      + printable(path)
                      + ": "
                      + why
                      + ": rename the file");
            });
    try {
      ByteBuffer b =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(path));
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    } catch (CharacterCodingException e) {
      throw new SignatureException(
          "the file name "
              + printable(path)
              + " of model '"
              + model
              + "' is not valid Unicode (an unpaired surrogate); a signed manifest needs names that"
              + " encode in UTF-8: rename the file",
          e);
    }
  }

  /** A name quoted for a message, with control characters and surrogates shown as escapes. */
  static String printable(String s) {
    StringBuilder sb = new StringBuilder("'");
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f || Character.isSurrogate(c)) {
        sb.append(String.format("\\u%04X", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append(s.length() > 200 ? "...'" : "'").toString();
  }

  /**
   * The manifest of model {@code model} whose entry point (the file ONNX Runtime opens) is {@code
   * entryPoint}, with these files.
   *
   * @throws SignatureException if a path repeats, holds a control character, is not portable or is
   *     not valid Unicode, if no file is given, or if the entry point is not among the files
   * @throws dev.mlops.api.InvalidModelRefException if the model name is invalid
   */
  public static Manifest of(String model, String entryPoint, List<ArtifactFile> files) {
    return new Manifest(
        Objects.requireNonNull(model, "model"),
        Objects.requireNonNull(entryPoint, "entryPoint"),
        Objects.requireNonNull(files, "files"));
  }

  /**
   * The manifest of a registered version: its model name, {@link ModelVersion#modelFile()} and
   * files, as the registry verifies them before each load.
   *
   * @throws SignatureException if the version's metadata cannot form a manifest (see {@link
   *     #of(String, String, List)})
   */
  public static Manifest of(ModelVersion version) {
    Objects.requireNonNull(version, "version");
    return new Manifest(version.name(), version.modelFile(), version.files());
  }

  /**
   * The manifest the registry will record when it registers {@code source} as a version of {@code
   * model}: for a file, that file under its own name; for a directory, every regular file under it;
   * the entry point is {@link #entryPoint(ArtifactSource)}. Use it to sign an artifact before
   * registering it. Stream sources cannot be read twice and are refused.
   *
   * @throws IllegalArgumentException for a stream source, or a directory holding a symbolic link
   * @throws SignatureException if the files cannot form a manifest (see {@link #of(String, String,
   *     List)})
   * @throws UncheckedIOException if a file cannot be read
   */
  public static Manifest of(String model, ArtifactSource source) {
    Objects.requireNonNull(model, "model");
    String entryPoint = entryPoint(source);
    try {
      if (source instanceof ArtifactSource.FileSource) {
        Path file = ((ArtifactSource.FileSource) source).file();
        return new Manifest(model, entryPoint, List.of(fileEntry(file, entryPoint)));
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
        return new Manifest(model, entryPoint, out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the artifact " + source + ": " + e.getMessage(), e);
    }
    throw new IllegalArgumentException(
        "cannot compute the manifest of a stream source (it can be read only once); write it to a file first");
  }

  /**
   * The entry point the registry records for {@code source}: a file's own name, a directory's
   * {@code modelFile} with {@code /} separators, or a stream's file name.
   */
  public static String entryPoint(ArtifactSource source) {
    Objects.requireNonNull(source, "source");
    if (source instanceof ArtifactSource.FileSource) {
      return ((ArtifactSource.FileSource) source).file().getFileName().toString();
    }
    if (source instanceof ArtifactSource.DirectorySource) {
      return ((ArtifactSource.DirectorySource) source)
          .modelFile()
          .replace(java.io.File.separatorChar, '/');
    }
    return ((ArtifactSource.StreamSource) source).fileName();
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

  /** The model name the manifest binds. */
  public String model() {
    return model;
  }

  /** The path of the entry-point file, the one ONNX Runtime opens; one of {@link #paths()}. */
  public String entryPoint() {
    return entryPoint;
  }

  /** The files, sorted by the UTF-8 bytes of their paths. */
  public List<ArtifactFile> files() {
    return files;
  }

  /** The paths, in the order of {@link #files()}. */
  public List<String> paths() {
    return files.stream().map(ArtifactFile::path).toList();
  }

  /** {@link #bytes()} decoded as UTF-8, for display. */
  public String text() {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** The encoded manifest (see the class comment): the bytes a signature signs. A copy. */
  public byte[] bytes() {
    return bytes.clone();
  }

  /** Lower-case hex SHA-256 of {@link #bytes()}. */
  public String sha256Hex() {
    return HexFormat.of().formatHex(sha256().digest(bytes));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Manifest && Arrays.equals(((Manifest) o).bytes, bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "Manifest["
        + model
        + ", entry "
        + printable(entryPoint)
        + ", "
        + files.size()
        + " files, sha256 "
        + sha256Hex()
        + "]";
  }
}
