package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import dev.mlops.testmodels.TestModels;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A fleet on the {@code postgresql:} URI with artifacts in S3 (s3proxy in-process): an instance
 * serves from its cache, and a model file replaced in the bucket behind the registry's back is an
 * {@link IntegrityException}, never a loaded model, while the old version keeps serving.
 */
class S3FleetTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "s3 fleet test");
  private static final float[] ROW = new float[30];

  @TempDir Path tmp;

  @BeforeEach
  void credentials() {
    // The URI takes credentials from the SDK's default chain: here, its system properties.
    System.setProperty("aws.accessKeyId", TestS3.IDENTITY);
    System.setProperty("aws.secretAccessKey", TestS3.CREDENTIAL);
  }

  @AfterEach
  void noCredentials() {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
  }

  @Test
  void aModelFileReplacedInTheBucketIsAnIntegrityFailureAndTheOldVersionKeepsServing()
      throws Exception {
    String url = TestDatabases.newDatabase("s3fleet");
    String db = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
    String bucket = TestS3.newBucket();
    String base =
        "postgresql://localhost:"
            + TestDatabases.server().getPort()
            + "/"
            + db
            + "?user=postgres&artifacts=s3://"
            + bucket
            + "/prod&s3.endpoint="
            + TestS3.endpoint()
            + "&s3.region=us-east-1";
    try (GovernedRegistry writer =
            RegistryProvider.openUri(
                URI.create(base + "&listen=false&cache=" + tmp.resolve("writer-cache")),
                OnnxRuntimeEngine.builder().build(),
                Clock.systemUTC());
        Mlops instance =
            Mlops.builder()
                .registry(URI.create(base + "&cache=" + tmp.resolve("instance-cache")))
                .build()) {
      for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
        writer.register(
            Registration.builder(
                    "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve(file))))
                .build(),
            OPS);
      }
      writer.setAlias("cancer", "production", 1, OPS);
      List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
      instance.addListener(events::add);
      Predictor<float[], float[]> p =
          instance.predictor("models:/cancer@production", Codecs.floatRow());
      assertThat(p.predict(ROW).version()).isEqualTo(1);
      assertThat(instance.state().artifactTransfers().orElseThrow().downloads())
          .as("v1's file, fetched from the bucket into the instance's cache")
          .isEqualTo(1);

      // Version 2's model file replaced in the bucket by another valid model (v1's bytes).
      ModelVersion v2 = writer.versions("cancer").get(1);
      List<S3Object> objects =
          TestS3.client()
              .listObjectsV2(b -> b.bucket(bucket).prefix("prod/artifacts/" + v2.digest() + "/"))
              .contents();
      assertThat(objects).hasSize(1);
      TestS3.client()
          .putObject(
              b -> b.bucket(bucket).key(objects.get(0).key()),
              RequestBody.fromBytes(TestModels.bytes(TestModels.BREAST_CANCER_V1)));
      writer.forceAlias("cancer", "production", 2, OPS); // forced: the writer's checks would refuse

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (events.stream().noneMatch(e -> e instanceof LifecycleEvent.ModelLoadFailed)
          && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
      }
      LifecycleEvent.ModelLoadFailed failed =
          events.stream()
              .filter(e -> e instanceof LifecycleEvent.ModelLoadFailed)
              .map(e -> (LifecycleEvent.ModelLoadFailed) e)
              .findFirst()
              .orElseThrow(() -> new AssertionError("no ModelLoadFailed event: " + events));
      assertThat(failed.version()).isEqualTo(2);
      Throwable cause = failed.cause();
      while (cause != null && !(cause instanceof IntegrityException)) {
        cause = cause.getCause();
      }
      assertThat(cause)
          .as("the cause of " + failed.cause())
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(v2.digest());
      assertThat(p.predict(ROW).version()).as("the old version keeps serving").isEqualTo(1);
      assertThat(events).noneMatch(e -> e instanceof LifecycleEvent.VersionSwapped);
    }
  }
}
