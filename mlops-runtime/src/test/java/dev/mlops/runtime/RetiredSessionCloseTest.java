package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.Codecs;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A version swapped from and evicted while a call still runs on it is closed when that call ends,
 * on the runtime's closer thread, not on the caller's.
 */
class RetiredSessionCloseTest {

  @TempDir Path tmp;

  @Test
  void theLastCallOnARetiredVersionDoesNotCloseItsSession() throws Exception {
    CountDownLatch inRun = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    Map<Long, String> unloadedOn = new ConcurrentHashMap<>();
    try (Mlops mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .swapExecutor(Runnable::run)
            .sessionCacheBudget(1) // room for one version: the swap evicts v1
            .observers(
                (version, inputs, outputs) -> {
                  if (version.version() == 1 && Thread.currentThread().getName().equals("slow")) {
                    inRun.countDown();
                    try {
                      finish.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }
                })
            .build()) {
      mlops.addListener(
          e -> {
            if (e instanceof LifecycleEvent.ModelUnloaded u) {
              unloadedOn.put(u.version(), Thread.currentThread().getName());
            }
          });
      HotSwapFixtures.register(mlops, "cancer", TestModels.BREAST_CANCER_V1, tmp);
      HotSwapFixtures.register(mlops, "cancer", TestModels.BREAST_CANCER_V2, tmp);
      mlops.registry().setAlias("cancer", "production", 1, HotSwapFixtures.OPS);
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      CompletableFuture<Prediction<float[]>> slow = new CompletableFuture<>();
      Thread caller =
          new Thread(
              () -> {
                try {
                  slow.complete(p.predict(new float[30]));
                } catch (RuntimeException e) {
                  slow.completeExceptionally(e);
                }
              },
              "slow");
      caller.start();
      assertThat(inRun.await(30, TimeUnit.SECONDS)).as("the call runs on v1").isTrue();
      unloadedOn.clear(); // registration's trial loads unloaded both versions already
      mlops.registry().setAlias("cancer", "production", 2, HotSwapFixtures.OPS);
      HotSwapFixtures.awaitServing(p, 2);
      assertThat(unloadedOn).as("v1 stays open while its call runs").doesNotContainKey(1L);
      finish.countDown();
      assertThat(slow.get(30, TimeUnit.SECONDS).version()).isEqualTo(1);
      HotSwapFixtures.await(
          () -> unloadedOn.containsKey(1L), Duration.ofSeconds(30), "v1 to be unloaded");
      assertThat(unloadedOn.get(1L)).isEqualTo("mlops-closer-1");
      p.close();
    }
  }
}
