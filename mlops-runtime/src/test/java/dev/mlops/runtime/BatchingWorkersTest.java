package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codec;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batching workers run on threads of their own, from a factory the caller can replace, and end on
 * close.
 */
class BatchingWorkersTest {

  @TempDir Path tmp;
  private Mlops mlops;

  @BeforeEach
  void open() {
    mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build();
    mlops
        .registry()
        .register(
            Registration.builder("tiny", ArtifactSource.file(TestModels.copy(TestModels.TINY, tmp)))
                .build(),
            AuditInfo.by("ci", "test"));
  }

  @AfterEach
  void close() {
    mlops.close();
  }

  /** A factory that keeps every thread it made. */
  private static final class RecordingFactory implements ThreadFactory {
    final List<Thread> made = new CopyOnWriteArrayList<>();

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, "app-batching-" + made.size());
      t.setDaemon(true);
      made.add(t);
      return t;
    }
  }

  /** floatRow that records the threads it decodes on. */
  private static final class ThreadsSeen implements Codec<float[], float[]> {
    private final Codec<float[], float[]> row = Codecs.floatRow();
    final Set<Thread> decodedOn = ConcurrentHashMap.newKeySet();

    @Override
    public Map<String, Tensor> encode(float[] input, ModelSignature signature) {
      return row.encode(input, signature);
    }

    @Override
    public float[] decode(Map<String, Tensor> outputs, ModelSignature signature) {
      decodedOn.add(Thread.currentThread());
      return row.decode(outputs, signature);
    }
  }

  private static void awaitEnd(List<Thread> threads) throws InterruptedException {
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(10));
      assertThat(t.isAlive()).as("%s still running", t.getName()).isFalse();
    }
  }

  @Test
  void workersRunOnTheThreadsOfTheGivenFactoryAndEndWhenThePredictorCloses() throws Exception {
    RecordingFactory factory = new RecordingFactory();
    ThreadsSeen codec = new ThreadsSeen();
    Predictor<float[], float[]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/tiny/1"), codec)
            .batching(BatchingOptions.builder().workers(3).threadFactory(factory).build())
            .build();
    assertThat(factory.made).hasSize(3).allMatch(Thread::isAlive);
    List<CompletableFuture<Prediction<float[]>>> futures = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      futures.add(p.predictAsync(new float[] {i, 0, 0, 0}));
    }
    for (CompletableFuture<Prediction<float[]>> f : futures) {
      assertThat(f.get(10, TimeUnit.SECONDS).version()).isEqualTo(1);
    }
    assertThat(codec.decodedOn).isNotEmpty().isSubsetOf(factory.made);
    p.close();
    awaitEnd(factory.made);
    assertThat(factory.made).as("threads made, all told").hasSize(3);
  }

  @Test
  void defaultWorkersAreDaemonThreadsNamedAfterThePredictorThatEndOnClose() throws Exception {
    Predictor<float[], float[]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/tiny/1"), Codecs.floatRow())
            .batching(BatchingOptions.builder().workers(2).build())
            .build();
    List<Thread> workers =
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith("mlops-batching-models:/tiny/1-"))
            .toList();
    assertThat(workers)
        .extracting(Thread::getName)
        .containsExactlyInAnyOrder(
            "mlops-batching-models:/tiny/1-1", "mlops-batching-models:/tiny/1-2");
    assertThat(workers).allMatch(Thread::isDaemon);
    assertThat(p.predictAsync(new float[4]).get(10, TimeUnit.SECONDS).version()).isEqualTo(1);
    p.close();
    awaitEnd(workers);
  }

  @Test
  void aFactoryThatMakesNoThreadFailsTheBuildAndLeavesNothingRunning() throws Exception {
    RecordingFactory recording = new RecordingFactory();
    ThreadFactory oneOnly = r -> recording.made.isEmpty() ? recording.newThread(r) : null;
    assertThatThrownBy(
            () ->
                mlops
                    .newPredictor(ModelRef.parse("models:/tiny/1"), Codecs.floatRow())
                    .batching(BatchingOptions.builder().workers(2).threadFactory(oneOnly).build())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("the batching thread factory ")
        .hasMessageEndingWith(
            " made no thread for worker 2 of 2 of models:/tiny/1; give BatchingOptions a factory"
                + " that makes one per call");
    awaitEnd(recording.made);
    assertThat(recording.made).hasSize(1);
    assertThat(mlops.state().predictors()).isEmpty();
    // Only the cache still holds the version: evicting it closes the one session.
    mlops.evict(mlops.registry().get(ModelRef.parse("models:/tiny/1")));
    assertThat(mlops.sessionStats().opened()).isEqualTo(1);
    assertThat(mlops.sessionStats().closed()).isEqualTo(1);
  }

  @Test
  void theThreadFactoryIsAnOptionSetOnce() {
    RecordingFactory f = new RecordingFactory();
    assertThat(BatchingOptions.builder().build().threadFactory()).isEmpty();
    assertThat(BatchingOptions.builder().threadFactory(f).build().threadFactory()).containsSame(f);
    assertThatThrownBy(() -> BatchingOptions.builder().threadFactory(f).threadFactory(f))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("threadFactory: already set");
  }
}
