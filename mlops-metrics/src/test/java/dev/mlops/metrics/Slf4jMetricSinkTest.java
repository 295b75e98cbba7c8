package dev.mlops.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleEvent.AliasDeleted;
import dev.mlops.api.event.LifecycleEvent.AliasMoved;
import dev.mlops.api.event.LifecycleEvent.ModelLoadFailed;
import dev.mlops.api.event.LifecycleEvent.ModelLoaded;
import dev.mlops.api.event.LifecycleEvent.ModelUnloaded;
import dev.mlops.api.event.LifecycleEvent.VersionArchived;
import dev.mlops.api.event.LifecycleEvent.VersionDeleted;
import dev.mlops.api.event.LifecycleEvent.VersionRegistered;
import dev.mlops.api.event.LifecycleEvent.VersionSwapped;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import dev.mlops.api.spi.ShadowEvent;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class Slf4jMetricSinkTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final RecordingLogger logger = new RecordingLogger(Level.TRACE);

  /** Returns the given draws in a cycle and counts how often it was asked. */
  private static final class Draws implements DoubleSupplier {
    private final double[] values;
    final AtomicInteger calls = new AtomicInteger();

    Draws(double... values) {
      this.values = values;
    }

    @Override
    public double getAsDouble() {
      return values[calls.getAndIncrement() % values.length];
    }
  }

  private static PredictionEvent success(int i) {
    return new PredictionEvent("cancer", 2, 123_456L, 7_999L, 1, Outcome.SUCCESS, "req-" + i);
  }

  private static PredictionEvent failure(int i) {
    return new PredictionEvent("cancer", 2, 5_000L, 0L, 1, Outcome.ERROR, "req-" + i);
  }

  private static ShadowEvent shadowCopy(Outcome outcome, ShadowEvent.Comparison comparison) {
    return new ShadowEvent(
        "cancer", "r-7", 1, 2, false, outcome, 95_400L, Optional.ofNullable(comparison));
  }

  private static final ShadowEvent DROPPED =
      new ShadowEvent("cancer", "r-7", 1, 2, true, Outcome.OVERLOADED, 0, Optional.empty());

  @Test
  void shadowLinesNameTheRolloutBothVersionsAndTheComparison() {
    Slf4jMetricSink sink = new Slf4jMetricSink(logger, 1.0, Level.DEBUG, new Draws(0.0));
    sink.onShadow(shadowCopy(Outcome.SUCCESS, new ShadowEvent.Comparison(0.0125, false)));
    sink.onShadow(shadowCopy(Outcome.TIMEOUT, null));
    sink.onShadow(DROPPED);
    sink.onShadow(
        shadowCopy(Outcome.SUCCESS, new ShadowEvent.Comparison(Double.POSITIVE_INFINITY, true)));
    assertThat(logger.entries()).extracting(RecordingLogger.Entry::level).containsOnly(Level.DEBUG);
    assertThat(logger.messages())
        .containsExactly(
            "shadow model=cancer rollout=r-7 stable=1 candidate=2 outcome=success latency_us=95"
                + " max_abs_diff=0.0125 argmax_changed=false",
            "shadow model=cancer rollout=r-7 stable=1 candidate=2 outcome=timeout latency_us=95",
            "shadow model=cancer rollout=r-7 stable=1 candidate=2 outcome=overloaded dropped=true",
            "shadow model=cancer rollout=r-7 stable=1 candidate=2 outcome=success latency_us=95"
                + " max_abs_diff=Infinity argmax_changed=true");
  }

  @Test
  void sameAnswerCopiesAndDropsAreSampledButFailuresAndChangedClassesNever() {
    // Every draw is above the rate: whatever is sampled is left out.
    Draws draws = new Draws(0.99);
    Slf4jMetricSink sink = new Slf4jMetricSink(logger, 0.5, Level.TRACE, draws);
    for (int i = 0; i < 10; i++) {
      sink.onShadow(shadowCopy(Outcome.SUCCESS, new ShadowEvent.Comparison(0.0, false)));
      sink.onShadow(DROPPED);
      sink.onShadow(shadowCopy(Outcome.ERROR, null));
      sink.onShadow(shadowCopy(Outcome.SUCCESS, new ShadowEvent.Comparison(0.5, true)));
    }
    assertThat(draws.calls).hasValue(20);
    assertThat(logger.entries()).hasSize(20).allMatch(e -> e.level() == Level.TRACE);
    assertThat(logger.messages()).filteredOn(m -> m.contains("outcome=error")).hasSize(10);
    assertThat(logger.messages()).filteredOn(m -> m.contains("argmax_changed=true")).hasSize(10);
  }

  @Test
  void shadowCopiesAreNotLoggedOrDrawnForWhenThePredictionLevelIsDisabled() {
    RecordingLogger infoLogger = new RecordingLogger(Level.INFO);
    Draws draws = new Draws(0.0);
    Slf4jMetricSink sink = new Slf4jMetricSink(infoLogger, 0.5, Level.DEBUG, draws);
    sink.onShadow(shadowCopy(Outcome.ERROR, null));
    sink.onShadow(DROPPED);
    assertThat(infoLogger.entries()).isEmpty();
    assertThat(draws.calls).hasValue(0);
  }

  @Test
  void predictionLineIsKeyValuePairsAtDebug() {
    Slf4jMetricSink sink = new Slf4jMetricSink(logger, 1.0, Level.DEBUG, new Draws(0.0));
    sink.onPrediction(success(42));
    assertThat(logger.entries())
        .containsExactly(
            new RecordingLogger.Entry(
                Level.DEBUG,
                "prediction model=cancer version=2 outcome=success latency_us=123 queue_us=7"
                    + " batch=1 key=req-42",
                null));
  }

  @Test
  void sampleRateOneLogsEverySuccessWithoutDrawing() {
    Draws draws = new Draws(0.999_999);
    Slf4jMetricSink sink = new Slf4jMetricSink(logger, 1.0, Level.DEBUG, draws);
    for (int i = 0; i < 1_000; i++) {
      sink.onPrediction(success(i));
    }
    assertThat(logger.entries()).hasSize(1_000);
    assertThat(draws.calls).hasValue(0);
  }

  @Test
  void sampleRateZeroLogsNoSuccessButEveryFailure() {
    Draws draws = new Draws(0.0);
    Slf4jMetricSink sink = new Slf4jMetricSink(logger, 0.0, Level.DEBUG, draws);
    for (int i = 0; i < 1_000; i++) {
      sink.onPrediction(success(i));
      if (i % 10 == 0) {
        sink.onPrediction(failure(i));
      }
    }
    assertThat(logger.messages()).hasSize(100).allMatch(m -> m.contains(" outcome=error "));
    assertThat(logger.entries()).allMatch(e -> e.level() == Level.DEBUG);
    assertThat(draws.calls).hasValue(0);
  }

  @Test
  void sampleRateHalfLogsExactlyTheSuccessesWhoseDrawIsBelowHalfAndEveryFailure() {
    // Draws below 0.5 pass, 0.5 and above do not: half of each cycle of four.
    Draws draws = new Draws(0.0, 0.499, 0.5, 0.999);
    Slf4jMetricSink sink = new Slf4jMetricSink(logger, 0.5, Level.DEBUG, draws);
    for (int i = 0; i < 1_000; i++) {
      sink.onPrediction(success(i));
      if (i % 4 == 2) {
        sink.onPrediction(failure(i)); // must not consume a draw nor be sampled away
      }
    }
    List<String> messages = logger.messages();
    List<String> successes = messages.stream().filter(m -> m.contains("outcome=success")).toList();
    assertThat(successes).hasSize(500);
    assertThat(successes)
        .allMatch(m -> m.endsWith("key=req-" + keyNumber(m)) && keyNumber(m) % 4 < 2);
    assertThat(messages.stream().filter(m -> m.contains("outcome=error"))).hasSize(250);
    assertThat(draws.calls).hasValue(1_000);
  }

  @Test
  void disabledLevelSkipsSamplingAndLogging() {
    RecordingLogger infoLogger = new RecordingLogger(Level.INFO);
    Draws draws = new Draws(0.0);
    Slf4jMetricSink sink = new Slf4jMetricSink(infoLogger, 0.5, Level.DEBUG, draws);
    for (int i = 0; i < 100; i++) {
      sink.onPrediction(success(i));
      sink.onPrediction(failure(i));
    }
    assertThat(infoLogger.entries()).isEmpty();
    assertThat(draws.calls).hasValue(0);
  }

  @Test
  void traceLevelLogsPredictionsAtTraceOnly() {
    Slf4jMetricSink sink = new Slf4jMetricSink(logger, 1.0, Level.TRACE, new Draws(0.0));
    sink.onPrediction(success(1));
    assertThat(logger.entries())
        .singleElement()
        .extracting(RecordingLogger.Entry::level)
        .isEqualTo(Level.TRACE);

    RecordingLogger debugLogger = new RecordingLogger(Level.DEBUG);
    new Slf4jMetricSink(debugLogger, 1.0, Level.TRACE, new Draws(0.0)).onPrediction(success(1));
    assertThat(debugLogger.entries()).isEmpty();
  }

  @Test
  void awkwardRequestKeysAreQuotedAndEscapedSoTheyCannotForgeLines() {
    Slf4jMetricSink sink = new Slf4jMetricSink(logger, 1.0, Level.DEBUG, new Draws(0.0));
    sink.onPrediction(new PredictionEvent("m", 1, 0L, 0L, 1, Outcome.SUCCESS, ""));
    sink.onPrediction(
        new PredictionEvent("m", 1, 0L, 0L, 1, Outcome.SUCCESS, "a b\n\"x\"=1\\\u0001"));
    assertThat(logger.messages())
        .containsExactly(
            "prediction model=m version=1 outcome=success latency_us=0 queue_us=0 batch=1 key=\"\"",
            "prediction model=m version=1 outcome=success latency_us=0 queue_us=0 batch=1"
                + " key=\"a b\\n\\\"x\\\"=1\\\\\\u0001\"");
    assertThat(logger.messages()).noneMatch(m -> m.contains("\n"));
  }

  @Test
  void lifecycleEventsAreLoggedAtInfoAsKeyValueLines() {
    Slf4jMetricSink sink = new Slf4jMetricSink(logger, 0.0, Level.DEBUG, new Draws(0.0));
    List<LifecycleEvent> events =
        List.of(
            new VersionRegistered(T0, version("cancer", 3, "alice")),
            new AliasMoved(T0, "cancer", "production", 1, 2, "bob", "better recall"),
            new AliasDeleted(T0, "cancer", "staging", 2, "bob"),
            new VersionArchived(T0, "cancer", 1, "carol"),
            new VersionDeleted(T0, "cancer", 1, "carol"),
            new ModelLoaded(T0, "cancer", 2, 12_345_678L),
            new VersionSwapped(T0, "cancer", "models:/cancer@production", 1, 2),
            new ModelUnloaded(T0, "cancer", 1));
    events.forEach(sink::onLifecycle);
    assertThat(logger.entries()).allMatch(e -> e.level() == Level.INFO && e.throwable() == null);
    assertThat(logger.messages())
        .containsExactly(
            "lifecycle event=version_registered model=cancer version=3 actor=alice",
            "lifecycle event=alias_moved model=cancer alias=production from=1 to=2 actor=bob"
                + " reason=\"better recall\"",
            "lifecycle event=alias_deleted model=cancer alias=staging from=2 actor=bob",
            "lifecycle event=version_archived model=cancer version=1 actor=carol",
            "lifecycle event=version_deleted model=cancer version=1 actor=carol",
            "lifecycle event=model_loaded model=cancer version=2 load_ms=12",
            "lifecycle event=version_swapped model=cancer target=models:/cancer@production from=1"
                + " to=2",
            "lifecycle event=model_unloaded model=cancer version=1");
  }

  @Test
  void loadFailureIsLoggedAtWarnWithItsCause() {
    Slf4jMetricSink sink = new Slf4jMetricSink(logger, 0.0, Level.DEBUG, new Draws(0.0));
    IllegalStateException cause = new IllegalStateException("bad graph");
    sink.onLifecycle(new ModelLoadFailed(T0, "cancer", 4, cause));
    assertThat(logger.entries())
        .containsExactly(
            new RecordingLogger.Entry(
                Level.WARN,
                "lifecycle event=model_load_failed model=cancer version=4"
                    + " error=\"java.lang.IllegalStateException: bad graph\"",
                cause));
  }

  @Test
  void lifecycleEventsAreNotLoggedWhenInfoIsDisabled() {
    RecordingLogger warnLogger = new RecordingLogger(Level.WARN);
    Slf4jMetricSink sink = new Slf4jMetricSink(warnLogger, 1.0, Level.DEBUG, new Draws(0.0));
    sink.onLifecycle(new ModelUnloaded(T0, "cancer", 1));
    sink.onLifecycle(new ModelLoadFailed(T0, "cancer", 4, new RuntimeException("x")));
    assertThat(warnLogger.entries())
        .singleElement()
        .extracting(RecordingLogger.Entry::level)
        .isEqualTo(Level.WARN);
  }

  @Test
  void builderRejectsSampleRatesOutsideZeroToOneNamingTheOption() {
    for (double bad : new double[] {-0.01, 1.01, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThatThrownBy(() -> Slf4jMetricSink.builder().sampleRate(bad))
          .as("sampleRate %s", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("sampleRate")
          .hasMessageContaining(String.valueOf(bad));
    }
  }

  @Test
  void builderRejectsLevelsAboveDebugNamingTheOption() {
    for (Level bad : new Level[] {Level.INFO, Level.WARN, Level.ERROR}) {
      assertThatThrownBy(() -> Slf4jMetricSink.builder().level(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("level")
          .hasMessageContaining(bad.name());
    }
    assertThatThrownBy(() -> Slf4jMetricSink.builder().level(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("level");
  }

  @Test
  void builderRejectsBlankLoggerNameAndOptionsSetTwice() {
    assertThatThrownBy(() -> Slf4jMetricSink.builder().loggerName(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("loggerName");
    assertThatThrownBy(() -> Slf4jMetricSink.builder().loggerName("a").loggerName("b"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("loggerName");
    assertThatThrownBy(() -> Slf4jMetricSink.builder().sampleRate(0.5).sampleRate(0.5))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sampleRate");
    assertThatThrownBy(() -> Slf4jMetricSink.builder().level(Level.DEBUG).level(Level.TRACE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("level");
  }

  @Test
  void builderAppliesOptionsAndDefaults() {
    assertThat(Slf4jMetricSink.builder().build())
        .hasToString(
            "Slf4jMetricSink[logger=dev.mlops.metrics.Slf4jMetricSink, level=DEBUG,"
                + " sampleRate=1.0]");
    Slf4jMetricSink sink =
        Slf4jMetricSink.builder()
            .loggerName("mlops.predictions")
            .sampleRate(0.25)
            .level(Level.TRACE)
            .build();
    assertThat(sink)
        .hasToString("Slf4jMetricSink[logger=mlops.predictions, level=TRACE, sampleRate=0.25]");
    // Through the real backend (slf4j-simple, INFO by default): nothing may throw.
    sink.onPrediction(success(1));
    sink.onLifecycle(new ModelUnloaded(T0, "cancer", 1));
  }

  private static int keyNumber(String message) {
    return Integer.parseInt(message.substring(message.lastIndexOf('-') + 1));
  }

  private static ModelVersion version(String name, long version, String createdBy) {
    String sha = "0".repeat(64);
    return ModelVersion.builder(name, version)
        .createdAt(T0)
        .createdBy(createdBy)
        .modelFile("model.onnx")
        .files(List.of(new ArtifactFile("model.onnx", 10, sha)))
        .digest(sha)
        .signature(new ModelSignature(List.of(), List.of()))
        .build();
  }
}
