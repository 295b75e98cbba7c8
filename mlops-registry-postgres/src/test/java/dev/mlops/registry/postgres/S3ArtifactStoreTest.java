package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ClosedException;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.TransferStatus;
import dev.mlops.runtime.registry.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/** What the S3 store adds to the kit's checks, on a real S3 API (s3proxy in this JVM). */
class S3ArtifactStoreTest {

  private static final long MIB = 1 << 20;

  @TempDir Path tmp;

  private final TestArtifact artifact =
      TestArtifact.of(
          Map.of(
              "model.onnx", TestArtifact.noise(1, 100_000),
              "data/weights.bin", TestArtifact.noise(2, 50_000)));

  private S3ArtifactStore store(S3Client client, String bucket) {
    return S3ArtifactStore.builder(client, bucket).prefix("team/a").cache(newDir()).build();
  }

  private Path newDir() {
    try {
      return Files.createTempDirectory(tmp, "cache-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static List<String> keys(String bucket) {
    List<String> keys = new ArrayList<>();
    for (S3Object o : TestS3.client().listObjectsV2Paginator(b -> b.bucket(bucket)).contents()) {
      keys.add(o.key());
    }
    Collections.sort(keys);
    return keys;
  }

  @Test
  void filesAreContentAddressedUnderThePrefixWithTheManifestBesideThem() {
    String bucket = TestS3.newBucket();
    try (S3ArtifactStore store = store(TestS3.client(), bucket)) {
      store.put(artifact.digest, artifact.writeTo(tmp), artifact.files);
    }
    String base = "team/a/artifacts/" + artifact.digest;
    assertThat(keys(bucket))
        .containsExactlyInAnyOrder(
            base + "/data/weights.bin", base + "/model.onnx", base + ".complete");
    String manifest =
        TestS3.client()
            .getObjectAsBytes(b -> b.bucket(bucket).key(base + ".complete"))
            .asUtf8String();
    assertThat(manifest)
        .isEqualTo(
            artifact.file("data/weights.bin").sha256()
                + " 50000 data/weights.bin\n"
                + artifact.file("model.onnx").sha256()
                + " 100000 model.onnx\n");
  }

  @Test
  void filesAPutLeftWithoutItsManifestAreListedAsStoredAndGoWithADelete() {
    String bucket = TestS3.newBucket();
    try (S3ArtifactStore store = store(TestS3.client(), bucket)) {
      // What a process killed mid-put leaves: one file uploaded, no manifest.
      String key = "team/a/artifacts/" + artifact.digest + "/model.onnx";
      TestS3.client()
          .putObject(
              b -> b.bucket(bucket).key(key),
              RequestBody.fromBytes(artifact.content.get("model.onnx")));
      assertThat(store.contains(artifact.digest)).isFalse();
      assertThat(store.stored()).containsOnlyKeys(artifact.digest);

      store.delete(artifact.digest);
      assertThat(store.stored()).isEmpty();
      assertThat(keys(bucket)).isEmpty();
    }
  }

  @Test
  void anObjectReplacedInTheBucketGivesIntegrityExceptionOnAFreshCacheAndCachesNothing() {
    String bucket = TestS3.newBucket();
    String key = "team/a/artifacts/" + artifact.digest + "/model.onnx";
    try (S3ArtifactStore writer = store(TestS3.client(), bucket)) {
      writer.put(artifact.digest, artifact.writeTo(tmp), artifact.files);
    }
    byte[] replaced = artifact.content.get("model.onnx").clone();
    replaced[12_345] ^= 0x40;
    TestS3.client().putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(replaced));

    Path cacheDir = newDir();
    try (S3ArtifactStore reader =
        S3ArtifactStore.builder(TestS3.client(), bucket).prefix("team/a").cache(cacheDir).build()) {
      assertThatThrownBy(() -> reader.materialize(artifact.digest, artifact.files))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(artifact.digest)
          .hasMessageContaining("model.onnx")
          .hasMessageContaining("expected sha256 " + artifact.file("model.onnx").sha256())
          .hasMessageContaining("sha256 " + Storage.sha256Hex(replaced));
      Path cached = cacheDir.resolve(artifact.digest);
      assertThat(cached.resolve("model.onnx")).doesNotExist();
      assertThat(TestArtifact.read(cacheDir.resolve(".partial"))).isEmpty();
      assertThat(TestArtifact.read(cached).keySet())
          .as("what is cached: only files that matched")
          .isSubsetOf(List.of("data/weights.bin"));
      TransferStatus status = reader.transferStatus().orElseThrow();
      assertThat(status.inFlight()).isEmpty();
      assertThat(status.refetches()).isZero();
    }
  }

  @Test
  void aFileAbovePartBytesGoesUpInPartsAndRoundTripsByteForByte() {
    String bucket = TestS3.newBucket();
    List<String> operations = TestS3.newRecord();
    TestArtifact big =
        TestArtifact.of(
            Map.of(
                "model.onnx", TestArtifact.noise(3, 1000),
                "data/weights.bin", TestArtifact.noise(4, (int) (12 * MIB + 123))));
    try (S3Client client = TestS3.recordingClient(operations);
        S3ArtifactStore store =
            S3ArtifactStore.builder(client, bucket)
                .cache(newDir())
                .partBytes(S3ArtifactStore.MIN_PART_BYTES)
                .build()) {
      store.put(big.digest, big.writeTo(tmp), big.files);
      assertThat(operations)
          .as("requests of the put")
          .containsExactly(
              "HeadObject",
              "CreateMultipartUpload",
              "UploadPart",
              "UploadPart",
              "UploadPart",
              "CompleteMultipartUpload",
              "PutObject",
              "PutObject");
    }
    byte[] stored =
        TestS3.client()
            .getObjectAsBytes(
                b -> b.bucket(bucket).key("artifacts/" + big.digest + "/data/weights.bin"))
            .asByteArray();
    assertThat(Storage.sha256Hex(stored))
        .as("the digest of the object put in parts")
        .isEqualTo(big.file("data/weights.bin").sha256());
    assertThat(stored).hasSize((int) (12 * MIB + 123));
    try (S3ArtifactStore fresh =
        S3ArtifactStore.builder(TestS3.client(), bucket).cache(newDir()).build()) {
      assertThat(big.isExactlyIn(fresh.materialize(big.digest, big.files))).isTrue();
    }
  }

  @Test
  void aMultipartUploadThatFailsIsAbortedAndTheArtifactIsNotStored() {
    String bucket = TestS3.newBucket();
    List<String> operations = TestS3.newRecord();
    ExecutionInterceptor failSecondPart =
        new ExecutionInterceptor() {
          private int parts;

          @Override
          public void beforeExecution(
              Context.BeforeExecution context, ExecutionAttributes attributes) {
            if ("UploadPart".equals(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME))
                && ++parts == 2) {
              throw new IllegalStateException("the network went away");
            }
          }
        };
    TestArtifact big =
        TestArtifact.of(Map.of("model.onnx", TestArtifact.noise(5, (int) (11 * MIB))));
    try (S3Client client =
            TestS3.newClient(List.of(failSecondPart, new TestS3.Recorder(operations)));
        S3ArtifactStore store =
            S3ArtifactStore.builder(client, bucket)
                .cache(newDir())
                .partBytes(S3ArtifactStore.MIN_PART_BYTES)
                .build()) {
      assertThatThrownBy(() -> store.put(big.digest, big.writeTo(tmp), big.files))
          .hasMessageContaining("the network went away");
      assertThat(operations)
          .containsExactly(
              "HeadObject", "CreateMultipartUpload", "UploadPart", "AbortMultipartUpload");
      assertThat(store.contains(big.digest)).isFalse();
    }
    assertThat(TestS3.client().listMultipartUploads(b -> b.bucket(bucket)).uploads())
        .as("multipart uploads left open")
        .isEmpty();
    assertThat(keys(bucket)).isEmpty();
  }

  @Test
  void transferStatusCountsDownloadsBytesAndRefetchesExactly() throws Exception {
    String bucket = TestS3.newBucket();
    try (S3ArtifactStore writer = store(TestS3.client(), bucket)) {
      writer.put(artifact.digest, artifact.writeTo(tmp), artifact.files);
      assertThat(writer.transferStatus())
          .as("a put downloads nothing")
          .contains(new TransferStatus(0, 0, 0, List.of()));
    }
    try (S3ArtifactStore reader = store(TestS3.client(), bucket)) {
      Path dir = reader.materialize(artifact.digest, artifact.files);
      assertThat(reader.transferStatus()).contains(new TransferStatus(2, 150_000, 0, List.of()));
      reader.materialize(artifact.digest, artifact.files);
      assertThat(reader.transferStatus()).contains(new TransferStatus(2, 150_000, 0, List.of()));

      Files.write(dir.resolve("data/weights.bin"), new byte[] {1, 2, 3});
      assertThat(artifact.isExactlyIn(reader.materialize(artifact.digest, artifact.files)))
          .isTrue();
      assertThat(reader.transferStatus()).contains(new TransferStatus(3, 200_000, 1, List.of()));
    }
  }

  @Test
  void twoThreadsMaterializingOneDigestDownloadEachFileOnce() throws Exception {
    String bucket = TestS3.newBucket();
    try (S3ArtifactStore writer = store(TestS3.client(), bucket)) {
      writer.put(artifact.digest, artifact.writeTo(tmp), artifact.files);
    }
    List<String> operations = TestS3.newRecord();
    try (S3Client client = TestS3.recordingClient(operations);
        S3ArtifactStore reader = store(client, bucket)) {
      CountDownLatch start = new CountDownLatch(1);
      List<Path> results = new CopyOnWriteArrayList<>();
      List<Throwable> failures = new CopyOnWriteArrayList<>();
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        Thread t =
            new Thread(
                () -> {
                  try {
                    start.await();
                    results.add(reader.materialize(artifact.digest, artifact.files));
                  } catch (Throwable e) {
                    failures.add(e);
                  }
                });
        t.start();
        threads.add(t);
      }
      start.countDown();
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(60));
      }
      assertThat(failures).isEmpty();
      assertThat(results).hasSize(2);
      assertThat(results.get(0)).isEqualTo(results.get(1));
      assertThat(operations.stream().filter("GetObject"::equals).count())
          .as("downloads of the two materializations")
          .isEqualTo(2);
      assertThat(reader.transferStatus()).contains(new TransferStatus(2, 150_000, 0, List.of()));
    }
  }

  @Test
  void deleteRemovesTheManifestFirstThenEveryObjectAndTheCachedCopy() {
    String bucket = TestS3.newBucket();
    List<String> operations = TestS3.newRecord();
    try (S3Client client = TestS3.recordingClient(operations);
        S3ArtifactStore store = store(client, bucket)) {
      store.put(artifact.digest, artifact.writeTo(tmp), artifact.files);
      Path cached = store.materialize(artifact.digest, artifact.files);
      operations.clear();

      store.delete(artifact.digest);
      assertThat(operations)
          .containsExactly("DeleteObject", "ListObjectsV2", "DeleteObject", "DeleteObject");
      assertThat(keys(bucket)).isEmpty();
      assertThat(cached).doesNotExist();
    }
  }

  @Test
  void theBuilderRefusesAnOptionSetTwiceAPartSizeBelowS3sLeastAndAMissingCache() {
    S3ArtifactStore.Builder b = S3ArtifactStore.builder(TestS3.client(), "b").cache(tmp);
    assertThatThrownBy(() -> b.cache(tmp))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cache is already set");
    assertThatThrownBy(() -> b.partBytes(S3ArtifactStore.MIN_PART_BYTES - 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("partBytes must be between");
    assertThatThrownBy(() -> b.prefix("/lead"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("prefix");
    assertThatThrownBy(() -> S3ArtifactStore.builder(TestS3.client(), "b").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cache is not set");
  }

  @Test
  void aClosedStoreRefusesCallsAndClosingTwiceIsHarmless() {
    S3ArtifactStore store = store(TestS3.client(), TestS3.newBucket());
    store.close();
    store.close();
    assertThatThrownBy(() -> store.contains(artifact.digest)).isInstanceOf(ClosedException.class);
  }

  @Test
  void aMissingBucketIsATypedFailure() {
    try (S3ArtifactStore store = store(TestS3.client(), "no-such-bucket")) {
      assertThatThrownBy(() -> store.put(artifact.digest, artifact.writeTo(tmp), artifact.files))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("s3://no-such-bucket/team/a/artifacts/" + artifact.digest);
    }
  }
}
