package dev.mlops.runtime;

import static dev.mlops.runtime.HotSwapFixtures.OPS;
import static dev.mlops.runtime.HotSwapFixtures.await;
import static dev.mlops.runtime.HotSwapFixtures.joinAll;
import static dev.mlops.runtime.HotSwapFixtures.register;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ClosedException;
import dev.mlops.api.Codecs;
import dev.mlops.api.OverloadedException;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.RegistryException;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.runtime.HotSwapFixtures.Events;
import dev.mlops.runtime.HotSwapFixtures.GatedCodec;
import dev.mlops.testmodels.TestModels;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link Mlops#close()} under load: calls finish or are refused cleanly, every session closes. */
class ShutdownIT {

  private static final Logger LOG = LoggerFactory.getLogger(ShutdownIT.class);
  private static final Duration DRAIN = Duration.ofSeconds(10);
  private static final Duration JOIN = Duration.ofSeconds(60);

  @TempDir Path tmp;

  @Test
  void closeWhileSixteenThreadsCallLetsEachCallSucceedOrFailClosedAndClosesEverySession()
      throws Exception {
    int callers = 16;
    Events events = new Events();
    Mlops mlops =
        Mlops.builder().localRegistry(tmp.resolve("registry")).drainTimeout(DRAIN).build();
    mlops.addListener(events);
    register(mlops, "cancer", TestModels.BREAST_CANCER_V1, tmp);
    register(mlops, "cancer", TestModels.BREAST_CANCER_V2, tmp);
    mlops.registry().setAlias("cancer", "production", 1, OPS);
    Predictor<float[], float[]> following =
        mlops.predictor("models:/cancer@production", Codecs.floatRow());
    Predictor<float[], float[]> pinned = mlops.predictor("models:/cancer/2", Codecs.floatRow());

    LongAdder ok = new LongAdder();
    LongAdder refused = new LongAdder();
    LongAdder other = new LongAdder();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < callers; t++) {
      // A mix: alias-following and pinned predictors, blocking and async calls.
      Predictor<float[], float[]> p = t % 2 == 0 ? following : pinned;
      boolean async = t % 4 == 3;
      Thread th =
          new Thread(
              () -> {
                for (; ; ) {
                  try {
                    if (async) {
                      p.predictAsync(new float[30]).join();
                    } else {
                      p.predict(new float[30]);
                    }
                    ok.increment();
                  } catch (ClosedException e) {
                    refused.increment();
                    return;
                  } catch (CompletionException e) {
                    if (e.getCause() instanceof ClosedException) {
                      refused.increment();
                    } else {
                      other.increment();
                      errors.add(e);
                    }
                    return;
                  } catch (RuntimeException | Error e) {
                    other.increment();
                    errors.add(e);
                    return;
                  }
                }
              },
              "caller-" + t);
      th.start();
      threads.add(th);
    }
    // Alias moves keep swaps going while the runtime closes.
    AtomicReference<Throwable> flipperFailure = new AtomicReference<>();
    Thread flipper =
        new Thread(
            () -> {
              for (int i = 0; ; i++) {
                try {
                  mlops.registry().setAlias("cancer", "production", 2 - (i % 2), OPS);
                  Thread.sleep(20);
                } catch (ClosedException e) {
                  return;
                } catch (InterruptedException e) {
                  return;
                } catch (RuntimeException e) {
                  if (!isKnownRegistryCloseRace(e)) {
                    flipperFailure.set(e);
                  }
                  return;
                }
              }
            },
            "flipper");
    flipper.start();
    await(() -> ok.sum() >= 5_000, Duration.ofSeconds(30), "5,000 calls before closing");

    long closeStart = System.nanoTime();
    mlops.close();
    long closeNanos = System.nanoTime() - closeStart;
    joinAll(threads, JOIN);
    joinAll(List.of(flipper), JOIN);

    LOG.info(
        "close under load: {} calls ok, {} refused, {} other; close took {} ms; sessions {}",
        ok.sum(),
        refused.sum(),
        other.sum(),
        TimeUnit.NANOSECONDS.toMillis(closeNanos),
        mlops.sessionStats());
    assertThat(errors).as("failures other than ClosedException").isEmpty();
    assertThat(other.sum()).isZero();
    assertThat(refused.sum())
        .as("threads that were refused with ClosedException")
        .isEqualTo(callers);
    assertThat(flipperFailure.get()).isNull();
    assertThat(closeNanos).as("close duration in ns").isLessThan(DRAIN.toNanos());
    Mlops.SessionStats stats = mlops.sessionStats();
    assertThat(stats.opened()).isGreaterThanOrEqualTo(2);
    assertThat(stats.closed()).isEqualTo(stats.opened());
    assertThat(stats.loaded()).isZero();
    assertThat(events.loaded()).isEqualTo(stats.opened());
    assertThat(events.unloaded()).isEqualTo(stats.opened());
    assertThatThrownBy(() -> following.predict(new float[30])).isInstanceOf(ClosedException.class);
    assertThatThrownBy(() -> mlops.predictor("models:/cancer/1", Codecs.floatRow()))
        .isInstanceOf(ClosedException.class);
  }

  @Test
  void aSlowCallInFlightFinishesAfterCloseBeganAndItsSessionClosesAfterIt() throws Exception {
    Events events = new Events();
    GatedCodec codec = new GatedCodec();
    Mlops mlops =
        Mlops.builder().localRegistry(tmp.resolve("registry")).drainTimeout(DRAIN).build();
    mlops.addListener(events);
    List<Integer> decodedWhenClosed = new CopyOnWriteArrayList<>();
    mlops.addListener(
        e -> {
          if (e instanceof LifecycleEvent.ModelUnloaded) {
            decodedWhenClosed.add(codec.decoded.get());
          }
        });
    register(mlops, "cancer", TestModels.BREAST_CANCER_V1, tmp);
    Predictor<float[], float[]> p = mlops.predictor("models:/cancer", codec);

    AtomicLong slowVersion = new AtomicLong();
    AtomicReference<Throwable> slowFailure = new AtomicReference<>();
    Thread slow =
        new Thread(
            () -> {
              codec.slowOnThisThread();
              try {
                slowVersion.set(p.predict(new float[30]).version());
              } catch (RuntimeException | Error e) {
                slowFailure.set(e);
              }
            },
            "slow");
    slow.start();
    await(
        () -> codec.waiting.get() == 1, Duration.ofSeconds(20), "the slow call to block in decode");

    AtomicLong closeNanos = new AtomicLong(-1);
    Thread closer =
        new Thread(
            () -> {
              long start = System.nanoTime();
              mlops.close();
              closeNanos.set(System.nanoTime() - start);
            },
            "closer");
    closer.start();
    // Close has begun once the predictor refuses new calls.
    await(() -> refuses(p), Duration.ofSeconds(20), "the predictor to refuse calls");
    Thread.sleep(200);
    assertThat(closer.isAlive()).as("close returned while a call was in flight").isTrue();
    assertThat(events.unloaded()).as("sessions closed under the slow call").isZero();
    assertThat(mlops.sessionStats().closed()).isZero();

    codec.gate.countDown();
    joinAll(List.of(slow, closer), JOIN);
    assertThat(slowFailure.get()).isNull();
    assertThat(slowVersion.get()).isEqualTo(1);
    assertThat(closeNanos.get()).isBetween(TimeUnit.MILLISECONDS.toNanos(200), DRAIN.toNanos());
    assertThat(decodedWhenClosed)
        .as("slow calls decoded when the session closed")
        .containsExactly(1);
    assertThat(mlops.sessionStats().opened()).isEqualTo(1);
    assertThat(mlops.sessionStats().closed()).isEqualTo(1);
  }

  /**
   * The registry, not the runtime under test here: an alias move racing the registry's close can
   * fail with "cannot lock the registry: ClosedChannelException" instead of ClosedException
   * (reported with this test). Anything else the flipper hits fails the test.
   */
  private static boolean isKnownRegistryCloseRace(RuntimeException e) {
    return e instanceof RegistryException && e.getCause() instanceof ClosedChannelException;
  }

  private static boolean refuses(Predictor<float[], float[]> p) {
    try {
      p.predict(new float[30]);
      return false;
    } catch (ClosedException e) {
      return true;
    }
  }

  @Test
  void closeGivesUpAfterTheDrainTimeoutAndTheStuckCallsSessionClosesWhenItReturns()
      throws Exception {
    Duration drain = Duration.ofMillis(500);
    Events events = new Events();
    GatedCodec codec = new GatedCodec();
    Mlops mlops =
        Mlops.builder().localRegistry(tmp.resolve("registry")).drainTimeout(drain).build();
    mlops.addListener(events);
    register(mlops, "cancer", TestModels.BREAST_CANCER_V1, tmp);
    Predictor<float[], float[]> p = mlops.predictor("models:/cancer", codec);
    AtomicLong slowVersion = new AtomicLong();
    Thread slow =
        new Thread(
            () -> {
              codec.slowOnThisThread();
              slowVersion.set(p.predict(new float[30]).version());
            },
            "stuck");
    slow.start();
    await(
        () -> codec.waiting.get() == 1,
        Duration.ofSeconds(20),
        "the stuck call to block in decode");

    long start = System.nanoTime();
    mlops.close();
    long closeNanos = System.nanoTime() - start;
    assertThat(closeNanos)
        .isBetween(drain.toNanos(), drain.toNanos() + TimeUnit.SECONDS.toNanos(5));
    assertThat(mlops.sessionStats().closed()).as("closed while the call still runs").isZero();
    assertThat(mlops.sessionStats().loaded()).isEqualTo(1);

    codec.gate.countDown();
    joinAll(List.of(slow), JOIN);
    assertThat(slowVersion.get()).isEqualTo(1);
    assertThat(mlops.sessionStats().opened()).isEqualTo(1);
    assertThat(mlops.sessionStats().closed()).isEqualTo(1);
    assertThat(events.unloaded()).isEqualTo(1);
  }

  /**
   * predictAsync checks that the predictor is open and then submits to the executor; close can shut
   * the runtime's executor down in between. The executor below closes the runtime and then rejects,
   * which is that interleaving made certain. The caller must get a future failed with
   * ClosedException, as from any call after close, not a RejectedExecutionException thrown.
   */
  @Test
  void predictAsyncRacingCloseFailsItsFutureWithClosedException() throws Exception {
    AtomicReference<Mlops> runtime = new AtomicReference<>();
    AtomicBoolean closeOnNextTask = new AtomicBoolean();
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>()) {
          @Override
          public void execute(Runnable task) {
            if (closeOnNextTask.getAndSet(false)) {
              runtime.get().close();
              throw new RejectedExecutionException("executor shut down by close");
            }
            super.execute(task);
          }
        };
    try {
      Mlops mlops =
          Mlops.builder().localRegistry(tmp.resolve("registry")).executor(executor).build();
      runtime.set(mlops);
      register(mlops, "cancer", TestModels.BREAST_CANCER_V1, tmp);
      Predictor<float[], float[]> p = mlops.predictor("models:/cancer", Codecs.floatRow());
      assertThat(p.predictAsync(new float[30]).get(20, TimeUnit.SECONDS).version()).isEqualTo(1);

      closeOnNextTask.set(true);
      CompletableFuture<Prediction<float[]>> f = p.predictAsync(new float[30]);
      assertThat(f)
          .failsWithin(Duration.ofSeconds(20))
          .withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(ClosedException.class);
      assertThat(mlops.sessionStats().closed()).isEqualTo(mlops.sessionStats().opened());
    } finally {
      executor.shutdownNow();
    }
  }

  /** The contract says failures complete the future; a caller's executor that refuses is one. */
  @Test
  void predictAsyncOnAnExecutorThatRefusesFailsTheFutureWithOverloadedException() throws Exception {
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
    try (Mlops mlops =
        Mlops.builder().localRegistry(tmp.resolve("registry")).executor(executor).build()) {
      register(mlops, "cancer", TestModels.BREAST_CANCER_V1, tmp);
      Predictor<float[], float[]> p = mlops.predictor("models:/cancer", Codecs.floatRow());
      executor.shutdown();
      CompletableFuture<Prediction<float[]>> f = p.predictAsync(new float[30]);
      assertThat(f)
          .failsWithin(Duration.ofSeconds(20))
          .withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(OverloadedException.class)
          .withMessageContaining("rejected");
      assertThat(p.predict(new float[30]).version())
          .as("the predictor still serves blocking calls")
          .isEqualTo(1);
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void closeOnShutdownDrainsTheRuntimeWhenTheApplicationCallsSystemExit() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path out = tmp.resolve("child.out");
    Process child =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                ShutdownHookChild.class.getName(),
                tmp.resolve("child").toString())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    boolean exited = child.waitFor(90, TimeUnit.SECONDS);
    if (!exited) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    String transcript = String.join(System.lineSeparator(), lines);
    assertThat(exited).as("child exited within 90 s; output:%n%s", transcript).isTrue();
    assertThat(child.exitValue()).as("exit code; output:%n%s", transcript).isZero();
    assertThat(lines).as(transcript).anyMatch(l -> l.startsWith("EXITING after "));
    String sessions =
        lines.stream().filter(l -> l.startsWith("SESSIONS ")).findFirst().orElse("none");
    String calls = lines.stream().filter(l -> l.startsWith("CALLS ")).findFirst().orElse("none");
    LOG.info("child JVM: {} / {}", sessions, calls);
    assertThat(sessions).as(transcript).isEqualTo("SESSIONS opened=1 closed=1 loaded=0");
    assertThat(calls).as(transcript).matches("CALLS ok=[1-9]\\d* refused=\\d+ other=0");
  }
}
