package dev.mlops.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.MetricSink;
import dev.mlops.api.spi.Outcome;
import dev.mlops.api.spi.PredictionEvent;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * The kit must fail sinks that break its contract, each on the check that covers the fault, and
 * pass a correct one. Runs kit subclasses (nested here, so that Surefire does not run them on its
 * own) through the JUnit Platform test kit.
 */
class MetricSinkCompatibilityKitSelfTest {

  private static final Set<String> ALL_CHECKS =
      Set.of(
          "acceptsEveryLifecycleEventKind",
          "acceptsEveryOutcomeAndEdgeValue",
          "acceptsEmptyAndUnusualRequestKeys",
          "concurrentCallsFromManyThreadsFailNothingAndLoseNothing",
          "callsFromAnInterruptedThreadCompleteAndKeepTheInterruptStatus",
          "oneHundredThousandCallsFinishWithinAGenerousBound",
          "doesNotRetainPerCallObjectsWithoutBound",
          "worksAsTheMetricSinkOfARealRuntime");

  @Test
  void lifecycleSamplesCoverEveryPermittedEventKind() {
    Set<Class<?>> sampled =
        MetricSinkCompatibilityKit.lifecycleEventSamples().stream()
            .map(Object::getClass)
            .collect(Collectors.toSet());
    assertThat(sampled).containsExactlyInAnyOrder(LifecycleEvent.class.getPermittedSubclasses());
  }

  @Test
  void predictionSamplesCoverEveryOutcome() {
    assertThat(
            MetricSinkCompatibilityKit.predictionEventSamples().stream()
                .map(PredictionEvent::outcome)
                .collect(Collectors.toSet()))
        .containsExactlyInAnyOrder(Outcome.values());
  }

  @Test
  void aCorrectSinkPassesEveryCheck() {
    Events tests = run(CorrectKit.class);
    assertThat(failedChecks(tests)).isEmpty();
    assertThat(succeededChecks(tests)).containsExactlyInAnyOrderElementsOf(ALL_CHECKS);
  }

  @Test
  void aSinkThatThrowsOnOneLifecycleKindFailsTheLifecycleCheck() {
    assertThat(failedChecks(run(ThrowsOnSwapKit.class))).contains("acceptsEveryLifecycleEventKind");
  }

  @Test
  void aSinkThatMishandlesEmptyRequestKeysFailsTheRequestKeyCheck() {
    assertThat(failedChecks(run(EmptyKeyAsNullKit.class)))
        .contains("acceptsEmptyAndUnusualRequestKeys");
  }

  @Test
  void aSinkThatCountsOnlySuccessesFailsTheOutcomeCheck() {
    assertThat(failedChecks(run(CountsOnlySuccessKit.class)))
        .contains("acceptsEveryOutcomeAndEdgeValue");
  }

  @Test
  void aSinkThatLosesUpdatesUnderContentionFailsTheConcurrencyCheckOnly() {
    assertThat(failedChecks(run(RacyCounterKit.class)))
        .containsExactly("concurrentCallsFromManyThreadsFailNothingAndLoseNothing");
  }

  @Test
  void aSinkThatSwallowsInterruptsFailsTheInterruptCheck() {
    assertThat(failedChecks(run(SwallowsInterruptKit.class)))
        .contains("callsFromAnInterruptedThreadCompleteAndKeepTheInterruptStatus");
  }

  @Test
  void aSinkThatKeepsEveryEventFailsTheRetentionCheckOnly() {
    assertThat(failedChecks(run(HoardingKit.class)))
        .containsExactly("doesNotRetainPerCallObjectsWithoutBound");
  }

  private static Events run(Class<?> kit) {
    return EngineTestKit.engine("junit-jupiter").selectors(selectClass(kit)).execute().testEvents();
  }

  private static List<String> failedChecks(Events tests) {
    return names(tests.failed().stream());
  }

  private static List<String> succeededChecks(Events tests) {
    return names(tests.succeeded().stream());
  }

  private static List<String> names(java.util.stream.Stream<Event> events) {
    return events
        .map(e -> e.getTestDescriptor().getDisplayName())
        .map(n -> n.substring(0, n.indexOf('(')))
        .sorted()
        .collect(Collectors.toList());
  }

  /** Counts with adders. */
  static class CountingSink implements MetricSink {
    final LongAdder predictions = new LongAdder();

    @Override
    public void onPrediction(PredictionEvent event) {
      predictions.increment();
    }

    long count() {
      return predictions.sum();
    }
  }

  /** Base of the nested kits: counts through {@link CountingSink#count()}. */
  abstract static class CountingKit extends MetricSinkCompatibilityKit<CountingSink> {
    @Override
    protected OptionalLong predictionCount(CountingSink sink) {
      return OptionalLong.of(sink.count());
    }
  }

  static class CorrectKit extends CountingKit {
    @Override
    protected CountingSink createSink() {
      return new CountingSink();
    }
  }

  static class ThrowsOnSwapKit extends CountingKit {
    @Override
    protected CountingSink createSink() {
      return new CountingSink() {
        @Override
        public void onLifecycle(LifecycleEvent event) {
          if (event instanceof LifecycleEvent.VersionSwapped) {
            throw new UnsupportedOperationException("swaps not supported");
          }
        }
      };
    }
  }

  static class EmptyKeyAsNullKit extends CountingKit {
    @Override
    protected CountingSink createSink() {
      return new CountingSink() {
        @Override
        public void onPrediction(PredictionEvent event) {
          String key = event.requestKey().isEmpty() ? null : event.requestKey();
          if (key.length() > 0) { // NPE on the empty key
            predictions.increment();
          }
        }
      };
    }
  }

  static class CountsOnlySuccessKit extends CountingKit {
    @Override
    protected CountingSink createSink() {
      return new CountingSink() {
        @Override
        public void onPrediction(PredictionEvent event) {
          if (event.outcome() == Outcome.SUCCESS) {
            predictions.increment();
          }
        }
      };
    }
  }

  static class RacyCounterKit extends CountingKit {
    @Override
    protected CountingSink createSink() {
      return new CountingSink() {
        private volatile long count;

        @Override
        public void onPrediction(PredictionEvent event) {
          long c = count;
          Thread.yield(); // read-modify-write without a lock: other threads get in between
          count = c + 1;
        }

        @Override
        long count() {
          return count;
        }
      };
    }
  }

  static class SwallowsInterruptKit extends CountingKit {
    @Override
    protected CountingSink createSink() {
      return new CountingSink() {
        @Override
        public void onPrediction(PredictionEvent event) {
          try {
            Thread.sleep(0); // throws, and clears the status, on an interrupted thread
          } catch (InterruptedException e) {
            // swallowed: the bug under test
          }
          predictions.increment();
        }
      };
    }
  }

  static class HoardingKit extends CountingKit {
    @Override
    protected CountingSink createSink() {
      return new CountingSink() {
        private final ConcurrentLinkedQueue<Object> all = new ConcurrentLinkedQueue<>();

        @Override
        public void onPrediction(PredictionEvent event) {
          all.add(event);
          predictions.increment();
        }

        @Override
        public void onLifecycle(LifecycleEvent event) {
          all.add(event);
        }

        @Override
        public String toString() {
          return "HoardingSink" + Arrays.asList(all.size());
        }
      };
    }
  }
}
