package dev.mlops.registry.postgres;

import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * One real S3 API (s3proxy in this JVM over jclouds' in-memory blobstore, with AWS signatures
 * checked) for every test of this JVM; each test takes a fresh bucket on it.
 */
final class TestS3 {

  static final String IDENTITY = "mlops-test-access";
  static final String CREDENTIAL = "mlops-test-secret";

  private static final AtomicInteger COUNT = new AtomicInteger();
  private static S3Proxy proxy;
  private static S3Client client;

  private TestS3() {}

  static synchronized URI endpoint() {
    if (proxy == null) {
      BlobStoreContext context =
          ContextBuilder.newBuilder("transient")
              .credentials(IDENTITY, CREDENTIAL)
              .build(BlobStoreContext.class);
      S3Proxy started =
          S3Proxy.builder()
              .blobStore(context.getBlobStore())
              .endpoint(URI.create("http://127.0.0.1:0"))
              .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, IDENTITY, CREDENTIAL)
              .build();
      try {
        started.start();
        while (!"STARTED".equals(started.getState())) {
          Thread.onSpinWait();
        }
      } catch (Exception e) {
        throw new IllegalStateException("cannot start s3proxy", e);
      }
      proxy = started;
    }
    return URI.create("http://127.0.0.1:" + proxy.getPort());
  }

  /** The shared client. */
  static synchronized S3Client client() {
    if (client == null) {
      client = newClient(List.of());
    }
    return client;
  }

  /** A new client that records the name of every operation it begins in {@code operations}. */
  static S3Client recordingClient(List<String> operations) {
    return newClient(List.of(new Recorder(operations)));
  }

  /** A new client with these interceptors. */
  static S3Client newClient(List<ExecutionInterceptor> interceptors) {
    return S3Client.builder()
        .endpointOverride(endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(IDENTITY, CREDENTIAL)))
        .forcePathStyle(true)
        // s3proxy answers 501 to the newer default checksums
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> interceptors.forEach(o::addExecutionInterceptor))
        .build();
  }

  /** A new, empty bucket; returns its name. */
  static String newBucket() {
    String name = "artifacts-" + COUNT.incrementAndGet();
    client().createBucket(b -> b.bucket(name));
    return name;
  }

  /** Records the operations begun, those that fail too (a HEAD of a missing key). */
  static final class Recorder implements ExecutionInterceptor {
    private final List<String> operations;

    Recorder(List<String> operations) {
      this.operations = operations;
    }

    @Override
    public void beforeExecution(
        Context.BeforeExecution context, ExecutionAttributes executionAttributes) {
      operations.add(executionAttributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME));
    }
  }

  static List<String> newRecord() {
    return new CopyOnWriteArrayList<>();
  }
}
