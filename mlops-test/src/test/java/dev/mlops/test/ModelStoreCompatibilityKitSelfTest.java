package dev.mlops.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.mlops.api.AuditEntry;
import dev.mlops.api.spi.AliasTarget;
import dev.mlops.api.spi.ModelStore;
import dev.mlops.api.spi.NewVersion;
import dev.mlops.api.spi.StoreListener;
import dev.mlops.api.spi.StoredRollout;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * The store kit must fail stores that break the contract, each on the checks that cover the fault,
 * and pass a correct one. Runs kit subclasses (nested here, so that Surefire does not run them on
 * their own) through the JUnit Platform test kit.
 */
class ModelStoreCompatibilityKitSelfTest {

  /** Broken stores may never deliver what a check waits for: it need not wait long to fail. */
  static final Duration BROKEN_FEED_TIMEOUT = Duration.ofMillis(500);

  static final Set<String> PROCESS_CHECKS =
      Set.of(
          "twoProcessesInsertingAtOnceGetEachNumberOnce",
          "aProcessKilledMidInsertLeavesOnlyCompleteGapFreeVersions",
          "aRolloutWrittenByAChildProcessIsVisible");

  static final Set<String> ALL_CHECKS =
      Set.of(
          "numbersEachModelsVersionsOneTwoThree",
          "aFailedInsertStoresNothingAndUsesUpNoNumber",
          "aModelWhoseOnlyInsertFailedIsNotListed",
          "aReCreatedAliasContinuesTheRevisionCount",
          "aLostConnectionAsksListenersToResyncAndDeliveryGoesOn",
          "aDeletedNumberIsNeverReused",
          "aRecordOfAnotherNameOrNumberIsRefusedAndStoresNothing",
          "sixteenThreadsInsertingAtOnceGetEachNumberOnce",
          "twoInstancesOnOneBackingShareOneNumbering",
          "twoProcessesInsertingAtOnceGetEachNumberOnce",
          "aProcessKilledMidInsertLeavesOnlyCompleteGapFreeVersions",
          "creatingAnAliasGivesRevisionOneAndEachMoveBumpsIt",
          "aCompareAndSetFromAWrongExpectedChangesNothing",
          "deletingAnAliasRemovesItAtTheNextRevision",
          "racingCompareAndSetsFromOneExpectedHaveExactlyOneWinner",
          "writingARolloutGivesRevisionOneAndEachWriteBumpsIt",
          "aRolloutWriteFromAWrongExpectedChangesNothing",
          "aCommittedRolloutWriteIsAuditedAndDeliveredOnceInCommitOrder",
          "racingRolloutWritesFromOneExpectedHaveExactlyOneWinner",
          "aRolloutOfAModelWithNoVersionIsRefused",
          "rolloutsPerAliasAreIndependentAndSurviveClosingAndReopening",
          "instancesOnOneBackingSeeEachOthersRolloutWrites",
          "aRolloutWrittenByAChildProcessIsVisible",
          "anAliasMoveToAMissingVersionIsRefusedAndChangesNothing",
          "anAliasMoveToAnArchivedVersionIsRefusedAndChangesNothing",
          "archivingOrDeletingAnAliasedVersionIsRefusedAndChangesNothing",
          "archivingTwiceReturnsTrueThenFalseAndRecordsOnce",
          "deletedVersionsAreNotListedAndCannotBeRead",
          "archivingOrDeletingAMissingVersionThrowsModelNotFound",
          "auditReturnsEachChangeWithExactlyItsEntryInCommitOrder",
          "appendedAuditEntriesAppearAndChangeNoState",
          "auditQueriesFilterByModelActionVersionAliasActorAndTime",
          "sideFilesRoundTripByteForByte",
          "sideFilesAreGoneWithADeletedVersion",
          "theFeedDeliversEachCommittedChangeOnceInCommitOrder",
          "aDeliveredChangeIsAlreadyVisibleToReads",
          "theFeedDeliversConcurrentChangesOnceInCommitOrder",
          "refusedAndFailedChangesDeliverNothing",
          "closingTheSubscriptionStopsDelivery",
          "instancesOnOneBackingInThisJvmSeeEachOthersChanges",
          "aClosedStoreDeliversNothingToItsListeners",
          "everythingIsThereAfterClosingAndReopening",
          "closingTwiceIsHarmless");

  @Test
  void theKitHasExactlyTheListedChecks() {
    Set<String> declared =
        Stream.of(ModelStoreCompatibilityKit.class.getDeclaredMethods())
            .filter(m -> m.isAnnotationPresent(Test.class))
            .map(java.lang.reflect.Method::getName)
            .collect(Collectors.toSet());
    assertThat(declared).containsExactlyInAnyOrderElementsOf(ALL_CHECKS);
  }

  @Test
  void aCorrectStorePassesEveryCheckAndSkipsTheProcessChecksWithAReason() {
    Events tests = run(CorrectKit.class);
    assertThat(names(tests.failed())).isEmpty();
    assertThat(names(tests.succeeded()))
        .containsExactlyInAnyOrderElementsOf(
            ALL_CHECKS.stream()
                .filter(c -> !PROCESS_CHECKS.contains(c))
                .collect(Collectors.toList()));
    assertThat(names(tests.aborted())).containsExactlyInAnyOrderElementsOf(PROCESS_CHECKS);
    assertThat(
            tests.aborted().stream()
                .map(
                    e ->
                        e.getRequiredPayload(org.junit.platform.engine.TestExecutionResult.class)
                            .getThrowable()
                            .map(Throwable::getMessage)
                            .orElse("")))
        .allSatisfy(reason -> assertThat(reason).contains("childProcessStore()"));
  }

  @Test
  void numberingWithAGapAfterAFailedInsertFailsTheFailedInsertCheckOnly() {
    assertThat(failedChecks(GapsKit.class))
        .containsExactly("aFailedInsertStoresNothingAndUsesUpNoNumber");
  }

  @Test
  void reusedDeletedNumbersFailTheReuseAndReopeningChecks() {
    assertThat(failedChecks(ReusesDeletedNumbersKit.class))
        .containsExactlyInAnyOrder(
            "aDeletedNumberIsNeverReused", "everythingIsThereAfterClosingAndReopening");
  }

  @Test
  void aCompareAndSetThatIgnoresExpectedFailsTheCompareAndSetChecks() {
    assertThat(failedChecks(IgnoresExpectedKit.class))
        .containsExactlyInAnyOrder(
            "aCompareAndSetFromAWrongExpectedChangesNothing",
            "racingCompareAndSetsFromOneExpectedHaveExactlyOneWinner",
            "refusedAndFailedChangesDeliverNothing");
  }

  @Test
  void aRolloutWriteThatIgnoresExpectedFailsTheRolloutCompareAndSetChecks() {
    assertThat(failedChecks(IgnoresRolloutExpectedKit.class))
        .containsExactlyInAnyOrder(
            "aRolloutWriteFromAWrongExpectedChangesNothing",
            "aCommittedRolloutWriteIsAuditedAndDeliveredOnceInCommitOrder",
            "racingRolloutWritesFromOneExpectedHaveExactlyOneWinner",
            "rolloutsPerAliasAreIndependentAndSurviveClosingAndReopening",
            "instancesOnOneBackingSeeEachOthersRolloutWrites");
  }

  @Test
  void aStoreThatNeverBumpsTheRevisionFailsTheRevisionChecks() {
    assertThat(failedChecks(NoRevisionBumpKit.class))
        .containsExactlyInAnyOrder(
            "aReCreatedAliasContinuesTheRevisionCount",
            "creatingAnAliasGivesRevisionOneAndEachMoveBumpsIt",
            "deletingAnAliasRemovesItAtTheNextRevision",
            "racingCompareAndSetsFromOneExpectedHaveExactlyOneWinner",
            "everythingIsThereAfterClosingAndReopening");
  }

  @Test
  void anAliasToAMissingVersionAcceptedFailsTheMissingTargetChecks() {
    assertThat(failedChecks(AcceptsMissingTargetsKit.class))
        .containsExactlyInAnyOrder(
            "anAliasMoveToAMissingVersionIsRefusedAndChangesNothing",
            "refusedAndFailedChangesDeliverNothing");
  }

  @Test
  void aFeedThatDeliversFailedCompareAndSetsFailsTheChecksWithFailedCompareAndSets() {
    List<String> failed = failedChecks(DeliversFailedCasKit.class);
    assertThat(failed)
        .contains(
            "aCompareAndSetFromAWrongExpectedChangesNothing",
            "deletingAnAliasRemovesItAtTheNextRevision",
            "racingCompareAndSetsFromOneExpectedHaveExactlyOneWinner",
            "refusedAndFailedChangesDeliverNothing");
    // The concurrent feed check fails too whenever two of its compare-and-sets happened to collide.
    assertThat(failed).hasSizeBetween(4, 5);
    assertThat(
            failed.size() == 4
                || failed.contains("theFeedDeliversConcurrentChangesOnceInCommitOrder"))
        .isTrue();
  }

  @Test
  void aFeedOutOfOrderFailsEveryCheckOfDeliveries() {
    assertThat(failedChecks(OutOfOrderFeedKit.class))
        .containsExactlyInAnyOrder(
            "aFailedInsertStoresNothingAndUsesUpNoNumber",
            "creatingAnAliasGivesRevisionOneAndEachMoveBumpsIt",
            "aCompareAndSetFromAWrongExpectedChangesNothing",
            "deletingAnAliasRemovesItAtTheNextRevision",
            "racingCompareAndSetsFromOneExpectedHaveExactlyOneWinner",
            "anAliasMoveToAMissingVersionIsRefusedAndChangesNothing",
            "anAliasMoveToAnArchivedVersionIsRefusedAndChangesNothing",
            "archivingOrDeletingAnAliasedVersionIsRefusedAndChangesNothing",
            "archivingTwiceReturnsTrueThenFalseAndRecordsOnce",
            "theFeedDeliversEachCommittedChangeOnceInCommitOrder",
            "aDeliveredChangeIsAlreadyVisibleToReads",
            "theFeedDeliversConcurrentChangesOnceInCommitOrder",
            "refusedAndFailedChangesDeliverNothing",
            "closingTheSubscriptionStopsDelivery",
            "instancesOnOneBackingInThisJvmSeeEachOthersChanges",
            "aClosedStoreDeliversNothingToItsListeners",
            "writingARolloutGivesRevisionOneAndEachWriteBumpsIt",
            "aRolloutWriteFromAWrongExpectedChangesNothing",
            "aCommittedRolloutWriteIsAuditedAndDeliveredOnceInCommitOrder",
            "racingRolloutWritesFromOneExpectedHaveExactlyOneWinner",
            "aRolloutOfAModelWithNoVersionIsRefused",
            "instancesOnOneBackingSeeEachOthersRolloutWrites");
  }

  @Test
  void lostAttachmentsFailTheSideFileChecks() {
    assertThat(failedChecks(LosesAttachmentsKit.class))
        .containsExactlyInAnyOrder(
            "sideFilesRoundTripByteForByte",
            "sideFilesAreGoneWithADeletedVersion",
            "everythingIsThereAfterClosingAndReopening");
  }

  @Test
  void aStoreThatNeverAsksForAResyncFailsTheResyncCheckOnly() {
    assertThat(names(run(NeverResyncsKit.class).failed()))
        .containsExactly("aLostConnectionAsksListenersToResyncAndDeliveryGoesOn");
  }

  @Test
  void aStoreThatProcessesDoNotShareFailsTheProcessChecksOnly() {
    Events tests = run(ProcessLocalKit.class);
    assertThat(names(tests.failed())).containsExactlyInAnyOrderElementsOf(PROCESS_CHECKS);
    assertThat(names(tests.succeeded()))
        .containsExactlyInAnyOrderElementsOf(
            ALL_CHECKS.stream()
                .filter(c -> !PROCESS_CHECKS.contains(c))
                .collect(Collectors.toList()));
  }

  // ---------------------------------------------------------------- running the kits

  private static Events run(Class<?> kit) {
    return EngineTestKit.engine("junit-jupiter").selectors(selectClass(kit)).execute().testEvents();
  }

  private static List<String> failedChecks(Class<?> kit) {
    return names(run(kit).failed());
  }

  private static List<String> names(Events events) {
    return events.stream()
        .map(Event::getTestDescriptor)
        .map(d -> d.getDisplayName())
        .map(n -> n.substring(0, n.indexOf('(')))
        .sorted()
        .collect(Collectors.toList());
  }

  // ---------------------------------------------------------------- a correct store

  static class CorrectKit extends ModelStoreCompatibilityKit<InMemoryModelStore> {
    @Override
    protected InMemoryModelStore createStore() {
      return InMemoryModelStore.create();
    }

    @Override
    protected InMemoryModelStore openAnother(InMemoryModelStore store) {
      return store.openAnother();
    }

    @Override
    protected boolean instancesInOneJvmShareTheFeed() {
      return true;
    }

    @Override
    protected Optional<Runnable> loseConnection(InMemoryModelStore store) {
      return Optional.of(store::reconnect);
    }
  }

  /** Never asks its listeners to resync after a lost connection. */
  static class NeverResyncsKit extends CorrectKit {
    @Override
    protected Optional<Runnable> loseConnection(InMemoryModelStore store) {
      return Optional.of(() -> {});
    }

    @Override
    protected Duration feedTimeout() {
      return BROKEN_FEED_TIMEOUT;
    }
  }

  // ---------------------------------------------------------------- broken rules of the reference

  /** The reference with other rules. */
  abstract static class RulesKit extends CorrectKit {
    abstract InMemoryModelStore.Rules rules();

    @Override
    protected Duration feedTimeout() {
      return BROKEN_FEED_TIMEOUT;
    }

    @Override
    protected InMemoryModelStore createStore() {
      return new InMemoryModelStore(new InMemoryModelStore.Backing(), rules());
    }
  }

  static class GapsKit extends RulesKit {
    @Override
    InMemoryModelStore.Rules rules() {
      return new InMemoryModelStore.Rules() {
        @Override
        public boolean failedInsertsUseUpTheirNumber() {
          return true; // a failed insert leaves a gap
        }
      };
    }
  }

  static class ReusesDeletedNumbersKit extends RulesKit {
    @Override
    InMemoryModelStore.Rules rules() {
      return new InMemoryModelStore.Rules() {
        @Override
        public long nextNumber(long highestIssued, NavigableSet<Long> existing) {
          return existing.isEmpty() ? 1 : existing.last() + 1; // forgets deleted numbers
        }
      };
    }
  }

  static class AcceptsMissingTargetsKit extends RulesKit {
    @Override
    InMemoryModelStore.Rules rules() {
      return new InMemoryModelStore.Rules() {
        @Override
        public boolean refusesMissingTargets() {
          return false;
        }
      };
    }
  }

  // ---------------------------------------------------------------- broken wrappers of the
  // reference

  /** The reference behind a wrapper that breaks one call. */
  abstract static class WrapperKit extends ModelStoreCompatibilityKit<ModelStore> {
    abstract ModelStore wrap(InMemoryModelStore store);

    @Override
    protected Duration feedTimeout() {
      return BROKEN_FEED_TIMEOUT;
    }

    @Override
    protected ModelStore createStore() {
      return wrap(InMemoryModelStore.create());
    }

    @Override
    protected ModelStore openAnother(ModelStore store) {
      return wrap(((ForwardingModelStore) store).delegate.openAnother());
    }

    @Override
    protected boolean instancesInOneJvmShareTheFeed() {
      return true;
    }
  }

  static class IgnoresExpectedKit extends WrapperKit {
    @Override
    ModelStore wrap(InMemoryModelStore store) {
      return new ForwardingModelStore(store) {
        @Override
        public Optional<AliasTarget> compareAndSetAlias(
            String model, String alias, long expected, long target, AuditEntry entry) {
          AliasTarget current = delegate.aliases(model).get(alias);
          return delegate.compareAndSetAlias(
              model, alias, current == null ? 0 : current.version(), target, entry);
        }
      };
    }
  }

  static class IgnoresRolloutExpectedKit extends WrapperKit {
    @Override
    ModelStore wrap(InMemoryModelStore store) {
      return new ForwardingModelStore(store) {
        @Override
        public OptionalLong compareAndSetRollout(
            String model, String alias, long expected, String record, AuditEntry entry) {
          StoredRollout current = delegate.rollouts(model).get(alias);
          return delegate.compareAndSetRollout(
              model, alias, current == null ? 0 : current.revision(), record, entry);
        }
      };
    }
  }

  static class NoRevisionBumpKit extends WrapperKit {
    @Override
    ModelStore wrap(InMemoryModelStore store) {
      return new ForwardingModelStore(store) {
        @Override
        public Optional<AliasTarget> compareAndSetAlias(
            String model, String alias, long expected, long target, AuditEntry entry) {
          return delegate
              .compareAndSetAlias(model, alias, expected, target, entry)
              .map(t -> new AliasTarget(t.version(), 1));
        }

        @Override
        public Map<String, AliasTarget> aliases(String model) {
          Map<String, AliasTarget> out = new TreeMap<>();
          delegate.aliases(model).forEach((a, t) -> out.put(a, new AliasTarget(t.version(), 1)));
          return out;
        }
      };
    }
  }

  static class DeliversFailedCasKit extends WrapperKit {
    @Override
    ModelStore wrap(InMemoryModelStore store) {
      return new ForwardingModelStore(store) {
        private final List<StoreListener> listeners = new CopyOnWriteArrayList<>();

        @Override
        public Optional<AliasTarget> compareAndSetAlias(
            String model, String alias, long expected, long target, AuditEntry entry) {
          Optional<AliasTarget> result =
              delegate.compareAndSetAlias(model, alias, expected, target, entry);
          if (result.isEmpty()) {
            listeners.forEach(l -> l.changed(entry)); // announces a change that did not commit
          }
          return result;
        }

        @Override
        public AutoCloseable subscribe(StoreListener listener) {
          AutoCloseable handle = delegate.subscribe(listener);
          listeners.add(listener);
          return () -> {
            listeners.remove(listener);
            handle.close();
          };
        }
      };
    }
  }

  static class OutOfOrderFeedKit extends WrapperKit {
    @Override
    ModelStore wrap(InMemoryModelStore store) {
      return new ForwardingModelStore(store) {
        @Override
        public AutoCloseable subscribe(StoreListener listener) {
          return delegate.subscribe(
              new StoreListener() {
                private AuditEntry held;

                @Override
                public synchronized void changed(AuditEntry change) {
                  if (held == null) {
                    held = change; // delivers each pair of changes the wrong way round
                  } else {
                    listener.changed(change);
                    listener.changed(held);
                    held = null;
                  }
                }
              });
        }
      };
    }
  }

  static class LosesAttachmentsKit extends WrapperKit {
    @Override
    ModelStore wrap(InMemoryModelStore store) {
      return new ForwardingModelStore(store) {
        @Override
        public dev.mlops.api.ModelVersion insertVersion(
            String model, LongFunction<NewVersion> make) {
          return delegate.insertVersion(
              model,
              n -> {
                NewVersion nv = make.apply(n);
                Map<String, byte[]> kept = new TreeMap<>(nv.files());
                kept.keySet().removeIf(name -> name.startsWith(NewVersion.ATTACHMENTS));
                return new NewVersion(nv.version(), kept, nv.audit());
              });
        }
      };
    }
  }

  // ---------------------------------------------------------------- a store processes do not share

  /** Gives each child process a store of its own, as a store that is only in memory would. */
  public static final class FreshInMemoryStoreFactory
      implements ModelStoreCompatibilityKit.StoreFactory {
    /** For the child JVM. */
    public FreshInMemoryStoreFactory() {}

    @Override
    public ModelStore open(String location) {
      return InMemoryModelStore.create();
    }
  }

  static class ProcessLocalKit extends CorrectKit {
    @Override
    protected Duration feedTimeout() {
      return BROKEN_FEED_TIMEOUT;
    }

    @Override
    protected Optional<ChildProcessStore> childProcessStore(InMemoryModelStore store) {
      return Optional.of(new ChildProcessStore(FreshInMemoryStoreFactory.class, "memory"));
    }
  }
}
