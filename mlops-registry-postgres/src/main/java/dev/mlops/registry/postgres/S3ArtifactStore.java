package dev.mlops.registry.postgres;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ClosedException;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.ArtifactStore;
import dev.mlops.api.spi.TransferStatus;
import dev.mlops.runtime.registry.Storage;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * An {@link ArtifactStore} in an S3 bucket (AWS S3 or any store that speaks its API), through the
 * AWS SDK for Java v2, which the application adds ({@code software.amazon.awssdk:s3}; an optional
 * dependency of this module).
 *
 * <pre>{@code
 * ArtifactStore artifacts =
 *     S3ArtifactStore.builder(s3Client, "models")
 *         .prefix("prod")
 *         .cache(Path.of("/var/cache/mlops"))
 *         .build();
 * }</pre>
 *
 * <p>Keys are content-addressed: each file at {@code <prefix>/artifacts/<digest>/<path>}, and a
 * small manifest at {@code <prefix>/artifacts/<digest>.complete}, written last, listing every file
 * with its size and SHA-256. Guarantees:
 *
 * <ul>
 *   <li>{@link #contains} is true only once the manifest is there, so only once every file is;
 *   <li>a put first checks every listed file of the source (size and SHA-256), then uploads them,
 *       in several parts for a file above {@link Builder#partBytes} (an upload that fails is
 *       aborted), then the manifest. A put of a stored digest changes nothing. Concurrent puts of
 *       one digest write the same bytes at the same keys, so they agree without a compare-and-set
 *       (S3's conditional writes are not one that every S3 implementation keeps);
 *   <li>a delete removes the manifest first, then the files; a put that failed half-way leaves
 *       files without a manifest, which the next put of the digest overwrites and a delete removes;
 *   <li>{@link #materialize} fills a local {@link ArtifactCache}, which checks every file's size
 *       and SHA-256: the store never trusts the bucket's bytes, so an object replaced behind the
 *       registry's back gives an {@link IntegrityException} and is not cached.
 * </ul>
 *
 * <p>Thread-safe, as the {@link S3Client} is. Several processes may share the bucket, each with its
 * own cache directory. Closing the store leaves the client open (it belongs to the caller) and
 * makes later calls throw {@link ClosedException}.
 */
public final class S3ArtifactStore implements ArtifactStore {

  private static final Logger LOG = LoggerFactory.getLogger(S3ArtifactStore.class);
  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");

  /** The smallest part size, S3's: 5 MiB. */
  public static final long MIN_PART_BYTES = 5L << 20;

  /** The largest part size, S3's: 5 GiB. */
  public static final long MAX_PART_BYTES = 5L << 30;

  /** The default part size, and the size above which a file is uploaded in parts: 64 MiB. */
  public static final long DEFAULT_PART_BYTES = 64L << 20;

  private static final int MAX_PARTS = 10_000;

  private final S3Client s3;
  private final boolean closeClient;
  private final String bucket;
  private final String base;
  private final ArtifactCache cache;
  private final long partBytes;
  private volatile boolean closed;

  private S3ArtifactStore(
      S3Client s3,
      String bucket,
      String prefix,
      ArtifactCache cache,
      long partBytes,
      boolean closeClient) {
    this.s3 = s3;
    this.closeClient = closeClient;
    this.bucket = bucket;
    this.base = prefix.isEmpty() ? "artifacts/" : prefix + "/artifacts/";
    this.cache = cache;
    this.partBytes = partBytes;
  }

  /**
   * Starts a store in {@code bucket}, which must exist.
   *
   * @param s3 the client; the store does not close it
   * @param bucket the bucket's name
   */
  public static Builder builder(S3Client s3, String bucket) {
    return new Builder(s3, bucket);
  }

  /** Builds an {@link S3ArtifactStore}. Each option is set at most once. Not thread-safe. */
  public static final class Builder {
    private final S3Client s3;
    private final String bucket;
    private String prefix;
    private Path cache;
    private Long partBytes;
    private boolean closeClient;

    private Builder(S3Client s3, String bucket) {
      this.s3 = Objects.requireNonNull(s3, "s3");
      this.bucket = Objects.requireNonNull(bucket, "bucket");
      if (bucket.isEmpty()) {
        throw new IllegalArgumentException("bucket must not be empty");
      }
    }

    /**
     * The key prefix, such as {@code prod} or {@code teams/search}, without a leading or trailing
     * {@code /}; none if not set, so keys begin with {@code artifacts/}.
     *
     * @throws IllegalArgumentException if it begins or ends with {@code /}, or holds an empty,
     *     {@code .} or {@code ..} segment
     * @throws IllegalStateException if the prefix is already set
     */
    public Builder prefix(String prefix) {
      Objects.requireNonNull(prefix, "prefix");
      if (this.prefix != null) {
        throw new IllegalStateException("prefix is already set to '" + this.prefix + "'");
      }
      if (!prefix.isEmpty()) {
        for (String part : prefix.split("/", -1)) {
          if (part.isEmpty() || part.equals(".") || part.equals("..")) {
            throw new IllegalArgumentException(
                "prefix must be '/'-separated names without a leading or trailing '/', '.' or"
                    + " '..': '"
                    + prefix
                    + "'");
          }
        }
      }
      this.prefix = prefix;
      return this;
    }

    /**
     * The local directory of the store's {@link ArtifactCache}; required. One store, in one
     * process, per directory.
     *
     * @throws IllegalStateException if the cache is already set
     */
    public Builder cache(Path directory) {
      Objects.requireNonNull(directory, "directory");
      if (cache != null) {
        throw new IllegalStateException("cache is already set to " + cache);
      }
      cache = directory;
      return this;
    }

    /**
     * The size above which a file is uploaded in parts, and the size of those parts, from {@link
     * #MIN_PART_BYTES} to {@link #MAX_PART_BYTES}; {@link #DEFAULT_PART_BYTES} if not set. A file
     * that would need more than 10,000 parts gets larger ones.
     *
     * @throws IllegalArgumentException if out of range
     * @throws IllegalStateException if the part size is already set
     */
    public Builder partBytes(long bytes) {
      if (bytes < MIN_PART_BYTES || bytes > MAX_PART_BYTES) {
        throw new IllegalArgumentException(
            "partBytes must be between "
                + MIN_PART_BYTES
                + " (5 MiB) and "
                + MAX_PART_BYTES
                + " (5 GiB), S3's limits: "
                + bytes);
      }
      if (partBytes != null) {
        throw new IllegalStateException("partBytes is already set to " + partBytes);
      }
      partBytes = bytes;
      return this;
    }

    /**
     * Makes the store close the client when it closes (default: the caller keeps the client and
     * closes it): for a client built only for this store.
     */
    public Builder closeClient() {
      this.closeClient = true;
      return this;
    }

    /**
     * Opens the cache and the store. Contacts nothing: a wrong bucket or credentials show on the
     * first call.
     *
     * @throws IllegalStateException if the cache directory is not set
     * @throws RegistryException if the cache cannot be opened
     */
    public S3ArtifactStore build() {
      if (cache == null) {
        throw new IllegalStateException(
            "cache is not set: give the store a local directory with cache(Path)");
      }
      return new S3ArtifactStore(
          s3,
          bucket,
          prefix == null ? "" : prefix,
          ArtifactCache.open(cache),
          partBytes == null ? DEFAULT_PART_BYTES : partBytes,
          closeClient);
    }
  }

  // ---------------------------------------------------------------- keys

  private String fileKey(String digest, String path) {
    return base + digest + "/" + path;
  }

  private String manifestKey(String digest) {
    // Beside the files' folder, not in it: an artifact may hold a file of any name.
    return base + digest + ".complete";
  }

  private String where(String key) {
    return "s3://" + bucket + "/" + key;
  }

  // ---------------------------------------------------------------- the SPI

  /**
   * Uploads the listed files of {@code directory}, after checking each against its listed size and
   * digest, then the manifest.
   *
   * @throws IntegrityException if a file is not the listed one (nothing is uploaded)
   * @throws RegistryException if a file is missing (nothing is uploaded) or S3 fails (the artifact
   *     is not stored)
   */
  @Override
  public void put(String digest, Path directory, List<ArtifactFile> files) {
    Objects.requireNonNull(directory, "directory");
    List<ArtifactFile> listed = List.copyOf(files);
    // A stored digest gets its manifest written again, which only moves its time: a collection
    // then spares it while the registration that reuses it records its version.
    if (!contains(digest)) {
      for (ArtifactFile f : listed) {
        checkSource(digest, directory, f);
      }
      for (ArtifactFile f : listed) {
        upload(digest, directory.resolve(f.path()), f);
      }
    }
    StringBuilder manifest = new StringBuilder();
    for (ArtifactFile f : listed) {
      manifest.append(f.sha256()).append(' ').append(f.size()).append(' ').append(f.path());
      manifest.append('\n');
    }
    String key = manifestKey(digest);
    s3(
        "write the manifest of artifact " + digest + " at " + where(key),
        () ->
            s3.putObject(
                b -> b.bucket(bucket).key(key).contentType("text/plain; charset=utf-8"),
                RequestBody.fromString(manifest.toString(), StandardCharsets.UTF_8)));
    LOG.debug("stored artifact {} ({} files) at {}", digest, listed.size(), where(key));
  }

  private static void checkSource(String digest, Path directory, ArtifactFile f) {
    Path src = directory.resolve(f.path());
    try {
      BasicFileAttributes a =
          Files.readAttributes(src, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      String sha = a.isRegularFile() && a.size() == f.size() ? Storage.sha256(src) : null;
      if (!f.sha256().equals(sha)) {
        throw new IntegrityException(
            "cannot store artifact "
                + digest
                + ": file "
                + f.path()
                + " in "
                + directory
                + " is not the listed one: expected sha256 "
                + f.sha256()
                + " ("
                + f.size()
                + " bytes) but found "
                + (sha == null
                    ? (a.isRegularFile() ? a.size() + " bytes" : "something other than a file")
                    : "sha256 " + sha)
                + "; nothing was uploaded");
      }
    } catch (NoSuchFileException e) {
      throw new RegistryException(
          "cannot store artifact "
              + digest
              + ": the listed file "
              + f.path()
              + " is missing from "
              + directory
              + "; nothing was uploaded",
          e);
    } catch (IOException e) {
      throw new RegistryException(
          "cannot store artifact " + digest + ": cannot read " + src + ": " + e, e);
    }
  }

  private void upload(String digest, Path src, ArtifactFile f) {
    String key = fileKey(digest, f.path());
    if (f.size() <= partBytes) {
      s3(
          "upload file " + f.path() + " of artifact " + digest + " to " + where(key),
          () ->
              s3.putObject(
                  b -> b.bucket(bucket).key(key).contentLength(f.size()),
                  RequestBody.fromFile(src)));
      return;
    }
    long part = Math.max(partBytes, (f.size() + MAX_PARTS - 1) / MAX_PARTS);
    String what =
        "upload file " + f.path() + " of artifact " + digest + " in parts to " + where(key);
    String uploadId =
        s3(what, () -> s3.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId());
    try {
      List<CompletedPart> parts = new ArrayList<>();
      int number = 1;
      for (long offset = 0; offset < f.size(); offset += part, number++) {
        long from = offset;
        long length = Math.min(part, f.size() - offset);
        int n = number;
        String eTag =
            s3(
                what,
                () ->
                    s3.uploadPart(
                            b ->
                                b.bucket(bucket)
                                    .key(key)
                                    .uploadId(uploadId)
                                    .partNumber(n)
                                    .contentLength(length),
                            RequestBody.fromContentProvider(
                                () -> slice(src, from, length), length, "application/octet-stream"))
                        .eTag());
        parts.add(CompletedPart.builder().partNumber(n).eTag(eTag).build());
      }
      s3(
          what,
          () ->
              s3.completeMultipartUpload(
                  b ->
                      b.bucket(bucket)
                          .key(key)
                          .uploadId(uploadId)
                          .multipartUpload(m -> m.parts(parts))));
    } catch (RuntimeException e) {
      try {
        s3.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
      } catch (SdkException abort) {
        e.addSuppressed(abort);
      }
      throw e;
    }
  }

  /** A stream of {@code length} bytes of {@code file} from {@code offset}: one part's body. */
  private static InputStream slice(Path file, long offset, long length) {
    try {
      FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
      ch.position(offset);
      return new Limited(Channels.newInputStream(ch), length);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + " from offset " + offset, e);
    }
  }

  /** At most {@code remaining} bytes of a stream. */
  private static final class Limited extends FilterInputStream {
    private long remaining;

    Limited(InputStream in, long remaining) {
      super(in);
      this.remaining = remaining;
    }

    @Override
    public int read() throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int b = super.read();
      if (b >= 0) {
        remaining--;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int n = super.read(b, off, (int) Math.min(len, remaining));
      if (n > 0) {
        remaining -= n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(Math.min(n, remaining));
      remaining -= skipped;
      return skipped;
    }

    @Override
    public int available() throws IOException {
      return (int) Math.min(super.available(), remaining);
    }

    @Override
    public boolean markSupported() {
      return false;
    }
  }

  /**
   * Whether the artifact's manifest is there, so all of its files.
   *
   * @throws RegistryException if S3 fails
   */
  @Override
  public boolean contains(String digest) {
    checkDigest(digest);
    checkOpen();
    String key = manifestKey(digest);
    try {
      s3.headObject(b -> b.bucket(bucket).key(key));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return false;
      }
      throw failure("read whether artifact " + digest + " is stored at " + where(key), e);
    } catch (SdkException e) {
      throw failure("read whether artifact " + digest + " is stored at " + where(key), e);
    }
  }

  /**
   * The artifact's directory in the local cache, each file checked against {@code files}; what is
   * not cached, or no longer matches, is downloaded.
   *
   * @throws IntegrityException if the artifact is not stored, lacks a listed file, or a file
   *     downloaded does not match its record
   * @throws RegistryException if S3 or the local file system fails
   */
  @Override
  public Path materialize(String digest, List<ArtifactFile> files) {
    if (!contains(digest)) {
      throw new IntegrityException(
          "artifact " + digest + " is not stored at " + where(manifestKey(digest)));
    }
    return cache.materialize(digest, files, this::fetch);
  }

  private void fetch(String digest, ArtifactFile f, OutputStream out) throws IOException {
    checkOpen();
    String key = fileKey(digest, f.path());
    try (ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(key))) {
      in.transferTo(out);
    } catch (NoSuchKeyException e) {
      throw new IntegrityException(
          "file " + f.path() + " of artifact " + digest + " is missing at " + where(key), e);
    } catch (SdkException e) {
      throw failure(
          "download file " + f.path() + " of artifact " + digest + " from " + where(key), e);
    }
  }

  /**
   * Deletes the manifest, then every object under the artifact's folder, then the artifact's
   * directory in the local cache.
   *
   * @throws RegistryException if S3 fails (the artifact is not stored any more if the manifest was
   *     deleted; a delete again removes the rest)
   */
  @Override
  public void delete(String digest) {
    checkDigest(digest);
    checkOpen();
    String manifest = manifestKey(digest);
    s3(
        "delete the manifest of artifact " + digest + " at " + where(manifest),
        () -> s3.deleteObject(b -> b.bucket(bucket).key(manifest)));
    String folder = base + digest + "/";
    s3(
        "delete the files of artifact " + digest + " under " + where(folder),
        () -> {
          for (S3Object o :
              s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(folder)).contents()) {
            s3.deleteObject(b -> b.bucket(bucket).key(o.key()));
          }
          return null;
        });
    cache.drop(digest);
  }

  /**
   * Every artifact under the prefix: complete ones with their manifest's time, and the files an
   * interrupted put left without a manifest with the newest file's time.
   */
  @Override
  public java.util.Map<String, java.time.Instant> stored() {
    checkOpen();
    java.util.Map<String, java.time.Instant> complete = new java.util.TreeMap<>();
    java.util.Map<String, java.time.Instant> partial = new java.util.TreeMap<>();
    s3(
        "list the artifacts under " + where(base),
        () -> {
          for (S3Object o :
              s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(base)).contents()) {
            String rest = o.key().substring(base.length());
            if (rest.length() < 64 || !DIGEST.matcher(rest.substring(0, 64)).matches()) {
              continue;
            }
            String digest = rest.substring(0, 64);
            if (rest.equals(digest + ".complete")) {
              complete.put(digest, o.lastModified());
            } else if (rest.startsWith(digest + "/")) {
              partial.merge(digest, o.lastModified(), (a, b) -> a.isAfter(b) ? a : b);
            }
          }
          return null;
        });
    partial.putAll(complete);
    return partial;
  }

  /** The local cache's counts and running downloads; always present. */
  @Override
  public Optional<TransferStatus> transferStatus() {
    return Optional.of(cache.status());
  }

  /**
   * Marks the store closed, and closes the client if the builder said {@link Builder#closeClient};
   * the cached files stay. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (closeClient) {
      s3.close();
    }
  }

  @Override
  public String toString() {
    return "S3ArtifactStore[" + where(base) + ", cache=" + cache.directory() + "]";
  }

  // ---------------------------------------------------------------- internals

  private <T> T s3(String what, java.util.function.Supplier<T> call) {
    checkOpen();
    try {
      return call.get();
    } catch (SdkException e) {
      throw failure(what, e);
    } catch (UncheckedIOException e) {
      throw new RegistryException("cannot " + what + ": " + e.getMessage(), e);
    }
  }

  private static RegistryException failure(String what, SdkException e) {
    return new RegistryException("cannot " + what + ": " + e.getMessage(), e);
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException("this S3ArtifactStore is closed; build another on the client");
    }
  }

  private static void checkDigest(String digest) {
    Objects.requireNonNull(digest, "digest");
    if (!DIGEST.matcher(digest).matches()) {
      throw new IllegalArgumentException("not a SHA-256 digest: " + digest);
    }
  }
}
