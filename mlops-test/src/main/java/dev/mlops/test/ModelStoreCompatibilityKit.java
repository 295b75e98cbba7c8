package dev.mlops.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.ConflictException;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.VersionStatus;
import dev.mlops.api.spi.AliasTarget;
import dev.mlops.api.spi.ModelStore;
import dev.mlops.api.spi.NewVersion;
import dev.mlops.api.spi.StoreListener;
import dev.mlops.api.spi.StoredRollout;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compatibility suite that every {@link ModelStore} implementation extends and must pass: the
 * guarantees of the {@link ModelStore} contract, each checked at the store level with exact values.
 *
 * <pre>{@code
 * class MyStoreCompatibilityTest extends ModelStoreCompatibilityKit<MyStore> {
 *   @Override
 *   protected MyStore createStore() {
 *     return MyStore.open(newSchema());            // a fresh, empty backing
 *   }
 *
 *   @Override
 *   protected MyStore openAnother(MyStore store) {
 *     return MyStore.open(store.schema());         // the same backing; store may be closed
 *   }
 *
 *   @Override // optional: turns on the checks with child processes
 *   protected Optional<ChildProcessStore> childProcessStore(MyStore store) {
 *     return Optional.of(new ChildProcessStore(MyStoreFactory.class, store.schema()));
 *   }
 *
 *   @Override // optional: the store documents that instances in one JVM share the feed
 *   protected boolean instancesInOneJvmShareTheFeed() {
 *     return true;
 *   }
 * }
 * }</pre>
 *
 * <p>What it checks, each in its own test on a fresh backing:
 *
 * <ul>
 *   <li><b>Numbering.</b> Versions are numbered 1, 2, 3 ... per model, and {@code make} is asked
 *       for exactly those numbers; a {@code make} that throws stores nothing, records nothing and
 *       uses up no number, and a model whose only insert failed is not listed; a deleted number is
 *       never reused (also across instances); a record of another name or number is refused with
 *       {@link IllegalArgumentException}; {@value #THREADS} threads inserting at once, on one
 *       instance or alternating between two on one backing, get 1..N, each once, and the audit
 *       names them in that order; two child processes inserting at once get 1..N, each once; a
 *       child killed with SIGKILL in the middle of inserts leaves only complete versions (each
 *       record and side file exactly as inserted), numbered without gaps, and the next insert gets
 *       the next number.
 *   <li><b>Compare-and-set.</b> Creating an alias gives revision 1 and each move bumps it; a wrong
 *       {@code expected} changes nothing, records nothing and delivers nothing; deleting an alias
 *       removes it and reports the revision it reached; {@value #THREADS} threads racing from one
 *       {@code expected} have exactly one winner, with exactly one audit entry and one delivery.
 *   <li><b>Rollouts.</b> An alias's first rollout write gives revision 1 and each write bumps it,
 *       the record stored exactly as given; a write from a wrong {@code expected} changes, records
 *       and delivers nothing; each committed write is in the audit log once, in commit order, and
 *       delivered once, in that order; {@value #THREADS} threads racing from one {@code expected}
 *       (0 included) have exactly one winner; a model with no version is refused with {@link
 *       ConflictException}; each alias's rollout is independent, and records and revisions survive
 *       closing and reopening; instances on one backing see each other's writes, and so does a
 *       child process's (when {@link #childProcessStore} is given).
 *   <li><b>References.</b> An alias move to a missing, deleted or archived version, and archiving
 *       or deleting a version an alias points at, throw {@link ConflictException} and change
 *       nothing; archiving returns true, then false, and records once; archived versions are listed
 *       as {@link VersionStatus#ARCHIVED}, deleted ones are neither listed nor readable; archiving
 *       or deleting a missing version throws {@link ModelNotFoundException}.
 *   <li><b>Audit.</b> Entries come back in commit order, each exactly as given (texts with quotes,
 *       line breaks and non-ASCII characters, times with nanoseconds); {@link
 *       ModelStore#appendAudit} entries appear and change no state; {@link AuditQuery} filters by
 *       model, action, version, alias, actor and time.
 *   <li><b>Side files.</b> Round-trip byte for byte (every byte value, an empty file) and are gone
 *       with a deleted version.
 *   <li><b>Change feed.</b> Each committed change is delivered once, in commit order, as its entry,
 *       also under concurrent changes, and is visible to reads when it is delivered; failed and
 *       refused changes deliver nothing; closing a subscription stops its delivery; and, if the
 *       implementation says so ({@link #instancesInOneJvmShareTheFeed()}), instances on one backing
 *       in one JVM see each other's changes and a closed instance delivers nothing more.
 *   <li><b>Durability.</b> Models, versions with their statuses, side files, aliases with their
 *       revisions and the audit log are all there after closing and reopening, and numbering and
 *       revisions continue from where they were; closing twice is harmless.
 * </ul>
 *
 * <p>Deliveries are awaited (up to {@link #feedTimeout()}), so a store may deliver on its own
 * thread. The kit does not check whether {@link ModelStore#appendAudit} entries reach the feed (the
 * contract leaves it open) nor {@link StoreListener#resync()}.
 *
 * <p>Every test method is public, so an implementation that cannot meet one check can override it
 * (without {@code @Test}, which disables it) and say why. Stores the kit opens are closed after
 * each test. The kit starts only threads and processes it waits for or kills.
 *
 * @param <S> the store type under test
 */
public abstract class ModelStoreCompatibilityKit<S extends ModelStore> {

  private static final Logger LOG = LoggerFactory.getLogger(ModelStoreCompatibilityKit.class);

  /** How many threads the concurrency checks start. */
  public static final int THREADS = 16;

  static final String MODEL = "kit-model";
  static final String OTHER = "kit-other";
  static final String PROD = "production";
  static final String STAGING = "staging";

  private static final Duration THREAD_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(120);
  private static final int PER_PROCESS = 8;
  private static final int CRASH_ROUNDS = 3;
  private static final int CRASH_SIDE_FILE_BYTES = 2 * 1024 * 1024;
  private static final int SIDE_FILE_BYTES = 64 * 1024;

  @TempDir private Path kitDirectory;

  private final List<ModelStore> opened = new ArrayList<>();
  private final AtomicInteger scratchCount = new AtomicInteger();
  private final AtomicInteger entryCount = new AtomicInteger();

  /** For subclasses. */
  protected ModelStoreCompatibilityKit() {}

  /**
   * Opens a store on a new, empty backing (a fresh directory, schema or bucket). Called at least
   * once per test; the kit closes what it returns after the test.
   *
   * @return a new store, never null
   */
  protected abstract S createStore();

  /**
   * Opens another instance on the same backing as {@code store}, as another part of the application
   * or a restarted process would. {@code store} may have been closed: the kit reopens a backing
   * this way to check durability. The kit closes what it returns after the test.
   *
   * @param store a store made by {@link #createStore()} or by this method
   * @return a new instance, never null and never {@code store} itself
   */
  protected abstract S openAnother(S store);

  /**
   * How a child JVM opens a store on the same backing as {@code store}, for the checks with several
   * processes and with a process killed mid-insert. Default: empty, which skips those checks with a
   * reason in the test report; a store that several processes can share should return one.
   *
   * @param store a store made by {@link #createStore()}
   * @return the factory and location a child process uses, or empty
   */
  protected Optional<ChildProcessStore> childProcessStore(S store) {
    return Optional.empty();
  }

  /**
   * Whether the store documents that instances on one backing in one JVM see each other's changes
   * in their feeds. When true, the kit checks it, and checks that a closed instance delivers
   * nothing more to its listeners. Default: false, which skips those two checks.
   *
   * @return whether instances in one JVM share the change feed
   */
  protected boolean instancesInOneJvmShareTheFeed() {
    return false;
  }

  /**
   * Makes the store lose its connection to the shared state it watches and get it back (for a
   * database store: close the listening connection, or terminate its backend), for the check that
   * listeners are then asked to resync. Default: empty, for a store with no such connection, which
   * skips that check.
   *
   * @param store the store to disconnect
   * @return whether the store was disconnected, or empty to skip the check
   */
  protected Optional<Runnable> loseConnection(S store) {
    return Optional.empty();
  }

  /**
   * How long a check waits for the deliveries it expects before it fails. Default: 30 seconds;
   * raise it for a store whose feed lags (a database notification channel under load).
   *
   * @return a positive duration
   */
  protected Duration feedTimeout() {
    return Duration.ofSeconds(30);
  }

  /**
   * A new, empty directory for this test, deleted after it: for stores that keep their backing in
   * files. Each call returns another directory.
   *
   * @return an existing, empty directory
   */
  protected final Path scratchDirectory() {
    try {
      return Files.createDirectories(
          kitDirectory.resolve("scratch-" + scratchCount.incrementAndGet()));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Opens a store in a child JVM: implemented by a public class with a public no-argument
   * constructor, which the child instantiates by name. The child runs on this JVM's class path.
   */
  public interface StoreFactory {
    /**
     * Opens the store at {@code location}.
     *
     * @param location what {@link ChildProcessStore#location()} says
     * @return an open store, which the child closes
     */
    ModelStore open(String location);
  }

  /**
   * How a child JVM opens a store on one backing.
   *
   * @param factory a public class with a public no-argument constructor
   * @param location the backing, in a form the factory understands (a path, a URL)
   */
  public record ChildProcessStore(Class<? extends StoreFactory> factory, String location) {
    /** Validates that the child can instantiate the factory. */
    public ChildProcessStore {
      Objects.requireNonNull(factory, "factory");
      Objects.requireNonNull(location, "location");
      if (!Modifier.isPublic(factory.getModifiers())
          || Modifier.isAbstract(factory.getModifiers())
          || (factory.getEnclosingClass() != null && !Modifier.isStatic(factory.getModifiers()))) {
        throw new IllegalArgumentException(
            "the store factory "
                + factory.getName()
                + " must be a public, concrete, top-level or static nested"
                + " class, for a child JVM to instantiate it");
      }
      try {
        factory.getConstructor();
      } catch (NoSuchMethodException e) {
        throw new IllegalArgumentException(
            "the store factory " + factory.getName() + " needs a public no-argument constructor",
            e);
      }
    }
  }

  /**
   * Closes every store the kit opened for this test.
   *
   * @throws Exception if a store's {@code close()} does
   */
  @AfterEach
  public final void closeOpenedStores() throws Exception {
    Exception first = null;
    for (ModelStore store : opened) {
      try {
        store.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        }
      }
    }
    opened.clear();
    if (first != null) {
      throw first;
    }
  }

  // ================================================================ numbering

  /**
   * Versions are numbered 1, 2, 3 per model, make is asked for exactly those, records come back as
   * made.
   */
  @Test
  public void numbersEachModelsVersionsOneTwoThree() {
    S store = newStore();
    List<Long> asked = new ArrayList<>();
    List<ModelVersion> inserted = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      inserted.add(
          store.insertVersion(
              MODEL,
              n -> {
                asked.add(n);
                return sample(MODEL, n, "kit");
              }));
    }
    ModelVersion other = store.insertVersion(OTHER, n -> sample(OTHER, n, "kit"));

    assertThat(asked).as("numbers make was asked for").containsExactly(1L, 2L, 3L);
    assertThat(inserted)
        .as("records insertVersion returned")
        .containsExactly(
            StoreSamples.version(MODEL, 1, "kit"),
            StoreSamples.version(MODEL, 2, "kit"),
            StoreSamples.version(MODEL, 3, "kit"));
    assertThat(other).isEqualTo(StoreSamples.version(OTHER, 1, "kit"));
    assertThat(store.versions(MODEL)).as("versions(%s)", MODEL).containsExactlyElementsOf(inserted);
    assertThat(store.versions(OTHER)).containsExactly(other);
    assertThat(store.version(MODEL, 2)).contains(inserted.get(1));
    assertThat(store.version(MODEL, 4)).isEmpty();
    assertThat(store.versions("kit-never")).isEmpty();
    assertThat(store.models()).containsExactly(MODEL, OTHER);
    assertThat(store.audit(AuditQuery.all()))
        .containsExactly(
            StoreSamples.registered(MODEL, 1, "kit"), StoreSamples.registered(MODEL, 2, "kit"),
            StoreSamples.registered(MODEL, 3, "kit"), StoreSamples.registered(OTHER, 1, "kit"));
  }

  /** A make that throws stores nothing, records nothing, delivers nothing and uses up no number. */
  @Test
  public void aFailedInsertStoresNothingAndUsesUpNoNumber() {
    S store = newStore();
    Recorder feed = subscribe(store);
    ModelVersion first = insert(store, MODEL);
    IllegalStateException boom = new IllegalStateException("make failed on purpose");
    AtomicInteger calls = new AtomicInteger();

    assertThatThrownBy(
            () ->
                store.insertVersion(
                    MODEL,
                    n -> {
                      calls.incrementAndGet();
                      throw boom;
                    }))
        .as("insertVersion with a make that throws")
        .satisfies(t -> assertCausedBy(t, boom));

    assertThat(calls).as("calls of the failing make").hasValue(1);
    assertThat(store.versions(MODEL)).containsExactly(first);
    assertThat(store.version(MODEL, 2)).isEmpty();
    assertThat(store.audit(AuditQuery.all()))
        .containsExactly(StoreSamples.registered(MODEL, 1, "kit"));
    ModelVersion second = insert(store, MODEL);
    assertThat(second.version()).as("number after the failed insert").isEqualTo(2);
    assertThat(store.versions(MODEL)).containsExactly(first, second);
    assertThat(feed.await(2))
        .containsExactly(
            StoreSamples.registered(MODEL, 1, "kit"), StoreSamples.registered(MODEL, 2, "kit"));
  }

  /** A model whose only insert failed (make threw, or returned a wrong record) is not listed. */
  @Test
  public void aModelWhoseOnlyInsertFailedIsNotListed() {
    S store = newStore();
    IllegalStateException boom = new IllegalStateException("make failed on purpose");

    assertThatThrownBy(
            () ->
                store.insertVersion(
                    MODEL,
                    n -> {
                      throw boom;
                    }))
        .satisfies(t -> assertCausedBy(t, boom));
    assertThatThrownBy(() -> store.insertVersion(OTHER, n -> sample(OTHER, n + 1, "kit")))
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(store.models()).as("models() after failed first inserts").isEmpty();
    assertThat(store.versions(MODEL)).isEmpty();
    assertThat(store.versions(OTHER)).isEmpty();
    assertThat(store.audit(AuditQuery.all())).isEmpty();
  }

  /** Deleting the newest versions does not make their numbers available again, in any instance. */
  @Test
  public void aDeletedNumberIsNeverReused() {
    S store = newStore();
    for (int i = 0; i < 3; i++) {
      insert(store, MODEL);
    }
    store.delete(
        MODEL, 3, entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(3, false)));
    store.delete(
        MODEL, 2, entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(2, false)));
    assertThat(insert(store, MODEL).version()).as("number after deleting 3 and 2").isEqualTo(4);
    store.delete(
        MODEL, 4, entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(4, false)));
    store.delete(
        MODEL, 1, entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(1, false)));
    assertThat(store.versions(MODEL)).as("versions after deleting every one").isEmpty();
    assertThat(insert(store, MODEL).version())
        .as("number after deleting every version")
        .isEqualTo(5);

    S another = newAnother(store);
    assertThat(insert(another, MODEL).version()).as("number from another instance").isEqualTo(6);
    assertThat(store.versions(MODEL)).extracting(ModelVersion::version).containsExactly(5L, 6L);
  }

  /** A make that returns a record of another name or number is refused and stores nothing. */
  @Test
  public void aRecordOfAnotherNameOrNumberIsRefusedAndStoresNothing() {
    S store = newStore();
    assertThatThrownBy(() -> store.insertVersion(MODEL, n -> sample(MODEL, n + 1, "kit")))
        .as("a record numbered one more than asked")
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.insertVersion(MODEL, n -> sample(OTHER, n, "kit")))
        .as("a record of another model")
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(store.versions(MODEL)).isEmpty();
    assertThat(store.versions(OTHER)).isEmpty();
    assertThat(store.version(MODEL, 1)).isEmpty();
    assertThat(store.version(MODEL, 2)).isEmpty();
    assertThat(store.audit(AuditQuery.all())).isEmpty();
    assertThat(insert(store, MODEL).version()).as("number after the refused records").isEqualTo(1);
  }

  /**
   * {@value #THREADS} threads inserting 3 versions each at once get 1..48, each once, in increasing
   * order per thread; the audit names them in number order.
   *
   * @throws Exception if interrupted
   */
  @Test
  public void sixteenThreadsInsertingAtOnceGetEachNumberOnce() throws Exception {
    S store = newStore();
    assertConcurrentInsertsNumberedOnce(Collections.nCopies(THREADS, store), 3);
  }

  /**
   * Two instances on one backing, {@value #THREADS} threads alternating between them, share one
   * numbering; both see the same versions and audit log.
   *
   * @throws Exception if interrupted
   */
  @Test
  public void twoInstancesOnOneBackingShareOneNumbering() throws Exception {
    S first = newStore();
    S second = newAnother(first);
    List<ModelStore> perThread = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      perThread.add(t % 2 == 0 ? first : second);
    }
    assertConcurrentInsertsNumberedOnce(perThread, 2);
    assertThat(second.versions(MODEL)).isEqualTo(first.versions(MODEL));
    assertThat(second.audit(AuditQuery.all())).isEqualTo(first.audit(AuditQuery.all()));
  }

  private void assertConcurrentInsertsNumberedOnce(List<ModelStore> perThread, int each)
      throws Exception {
    int threads = perThread.size();
    Map<Integer, List<Long>> byThread = new ConcurrentHashMap<>();
    runAtOnce(
        threads,
        t -> {
          List<Long> mine = new ArrayList<>();
          for (int i = 0; i < each; i++) {
            mine.add(
                perThread.get(t).insertVersion(MODEL, n -> sample(MODEL, n, actor(t))).version());
          }
          byThread.put(t, mine);
        });
    int total = threads * each;
    Map<Long, String> actorByNumber = new TreeMap<>();
    for (Map.Entry<Integer, List<Long>> e : byThread.entrySet()) {
      assertThat(e.getValue())
          .as("numbers thread %d got, in its order", e.getKey())
          .isSorted()
          .hasSize(each);
      for (long n : e.getValue()) {
        assertThat(actorByNumber.put(n, actor(e.getKey()))).as("number %d given twice", n).isNull();
      }
    }
    assertThat(actorByNumber.keySet()).as("numbers given").containsExactlyElementsOf(oneTo(total));
    ModelStore store = perThread.get(0);
    List<ModelVersion> expected = new ArrayList<>();
    List<AuditEntry> expectedAudit = new ArrayList<>();
    actorByNumber.forEach(
        (n, actor) -> {
          expected.add(StoreSamples.version(MODEL, n, actor));
          expectedAudit.add(StoreSamples.registered(MODEL, n, actor));
        });
    assertThat(store.versions(MODEL)).containsExactlyElementsOf(expected);
    assertThat(store.audit(AuditQuery.all()))
        .as("audit, in commit order")
        .containsExactlyElementsOf(expectedAudit);
  }

  /**
   * Two child processes inserting {@value #PER_PROCESS} versions each at once get 1..16, each once.
   *
   * @throws Exception if a child cannot be started or the wait is interrupted
   */
  @Test
  public void twoProcessesInsertingAtOnceGetEachNumberOnce() throws Exception {
    S store = newStore();
    ChildProcessStore child = requireChildProcessStore(store);
    Map<Long, String> actorByNumber = new TreeMap<>();
    try (ChildJvm a =
            startWorker(
                child, "insert-a", "insert", MODEL, Integer.toString(PER_PROCESS), "process-a");
        ChildJvm b =
            startWorker(
                child, "insert-b", "insert", MODEL, Integer.toString(PER_PROCESS), "process-b")) {
      a.awaitLine("READY", CHILD_TIMEOUT);
      b.awaitLine("READY", CHILD_TIMEOUT);
      a.send("GO");
      b.send("GO");
      for (ChildJvm c : List.of(a, b)) {
        String actor = c == a ? "process-a" : "process-b";
        List<Long> numbers = new ArrayList<>();
        for (int i = 0; i < PER_PROCESS; i++) {
          numbers.add(number(c.awaitLine("INSERTED ", CHILD_TIMEOUT)));
        }
        assertThat(numbers).as("numbers %s got, in its order", actor).isSorted();
        for (long n : numbers) {
          assertThat(actorByNumber.put(n, actor)).as("number %d given twice", n).isNull();
        }
        c.awaitLine("DONE", CHILD_TIMEOUT);
        assertThat(c.awaitExit(CHILD_TIMEOUT))
            .as("exit code of %s%s", actor, c.diagnostics())
            .isZero();
      }
    }
    assertThat(actorByNumber.keySet()).containsExactlyElementsOf(oneTo(2 * PER_PROCESS));
    List<ModelVersion> expected = new ArrayList<>();
    List<AuditEntry> expectedAudit = new ArrayList<>();
    actorByNumber.forEach(
        (n, actor) -> {
          expected.add(
              StoreSamples.version(
                  MODEL, n, actor, StoreSamples.sideFiles(n, StoreKitWorker.SMALL_SIDE_FILES)));
          expectedAudit.add(StoreSamples.registered(MODEL, n, actor));
        });
    assertThat(store.versions(MODEL))
        .as("versions seen by this process")
        .containsExactlyElementsOf(expected);
    assertThat(store.audit(AuditQuery.all())).containsExactlyElementsOf(expectedAudit);
  }

  /**
   * A child process killed with SIGKILL at a random moment of an insert (of 4 MiB of side files),
   * {@value #CRASH_ROUNDS} times, leaves only complete versions without gaps, each acknowledged
   * insert with exactly its one audit entry, and the next insert gets the next number. (The entry
   * of a version committed but not yet acknowledged when the process died may be missing: the kit
   * tolerates that, though the contract's atomicity does not.)
   *
   * @throws Exception if a child cannot be started or the wait is interrupted
   */
  @Test
  public void aProcessKilledMidInsertLeavesOnlyCompleteGapFreeVersions() throws Exception {
    S store = newStore();
    ChildProcessStore child = requireChildProcessStore(store);
    Random random = new Random(System.nanoTime());
    long next = 1;
    List<Long> printedByAll = new ArrayList<>();
    for (int round = 0; round < CRASH_ROUNDS; round++) {
      List<Long> printed = new ArrayList<>();
      long delay;
      long perInsert;
      try (ChildJvm c =
          startWorker(
              child,
              "crash-" + round,
              "loop",
              MODEL,
              "crasher",
              Integer.toString(CRASH_SIDE_FILE_BYTES))) {
        c.awaitLine("READY", CHILD_TIMEOUT);
        long[] at = new long[3];
        for (int i = 0; i < 3; i++) {
          printed.add(number(c.awaitLine("INSERTED ", CHILD_TIMEOUT)));
          at[i] = System.nanoTime();
        }
        perInsert = Math.max((at[2] - at[0]) / 2, TimeUnit.MILLISECONDS.toNanos(1));
        delay = (long) (random.nextDouble() * 1.5 * perInsert);
        TimeUnit.NANOSECONDS.sleep(delay);
        c.kill();
        for (String line : c.drain(CHILD_TIMEOUT)) {
          if (line.startsWith("INSERTED ")) {
            printed.add(number(line));
          }
        }
      }
      long last = printed.get(printed.size() - 1);
      assertThat(printed)
          .as("numbers the child printed in round %d", round)
          .containsExactlyElementsOf(range(next, last));
      printedByAll.addAll(printed);

      S reopened = newAnother(store);
      List<ModelVersion> versions = reopened.versions(MODEL);
      // The child may have committed one more version than it could print.
      assertThat((long) versions.size())
          .as("versions after round %d (last printed %d)", round, last)
          .isBetween(last, last + 1);
      assertCompleteCrashVersions(reopened, versions);
      assertThat(store.versions(MODEL))
          .as("versions seen by the instance open during the crash")
          .isEqualTo(versions);
      List<Long> audited =
          reopened.audit(AuditQuery.builder().actions(AuditAction.REGISTER).build()).stream()
              .map(e -> Long.parseLong(e.details().get(AuditDetails.VERSION)))
              .collect(Collectors.toList());
      // Every acknowledged insert has its entry. The kit tolerates one loss that the contract's
      // atomicity forbids but the directory store documents: the entry of the one version the
      // child committed and was killed before it could acknowledge.
      if (audited.size() == versions.size() - 1 && versions.size() == last + 1) {
        assertThat(audited)
            .as("registrations in the audit (the unacknowledged last one missing)")
            .containsExactlyElementsOf(oneTo(last));
      } else {
        assertThat(audited)
            .as("registrations in the audit")
            .containsExactlyElementsOf(oneTo(versions.size()));
      }

      LOG.info(
          "crash round {}: killed {} us into an insert of about {} us; last printed {}, versions {}, registrations"
              + " audited {}",
          round,
          TimeUnit.NANOSECONDS.toMicros(delay),
          TimeUnit.NANOSECONDS.toMicros(perInsert),
          last,
          versions.size(),
          audited.size());
      ModelVersion after = insert(reopened, MODEL, "after-crash-" + round);
      assertThat(after.version())
          .as("number after the crash of round %d", round)
          .isEqualTo(versions.size() + 1);
      printedByAll.add(after.version());
      next = after.version() + 1;
    }
  }

  private void assertCompleteCrashVersions(ModelStore store, List<ModelVersion> versions) {
    assertThat(versions)
        .extracting(ModelVersion::version)
        .containsExactlyElementsOf(oneTo(versions.size()));
    for (ModelVersion v : versions) {
      String actor = v.createdBy();
      assertThat(actor).as("registrant of %s", v.ref()).matches("crasher|after-crash-\\d+");
      Map<String, byte[]> files =
          actor.equals("crasher")
              ? StoreSamples.sideFiles(v.version(), CRASH_SIDE_FILE_BYTES)
              : StoreSamples.sideFiles(v.version(), SIDE_FILE_BYTES);
      assertThat(v)
          .as("record of %s", v.ref())
          .isEqualTo(StoreSamples.version(MODEL, v.version(), actor, files));
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        Optional<byte[]> stored = store.file(MODEL, v.version(), f.getKey());
        assertThat(stored).as("side file %s of %s", f.getKey(), v.ref()).isPresent();
        assertThat(StoreSamples.difference(stored.get(), f.getValue()))
            .as("how side file %s of %s differs from what was inserted", f.getKey(), v.ref())
            .isNull();
      }
    }
  }

  // ================================================================ compare-and-set

  /** Creating an alias gives revision 1; every move bumps it; each alias has its own revisions. */
  @Test
  public void creatingAnAliasGivesRevisionOneAndEachMoveBumpsIt() {
    S store = newStore();
    for (int i = 0; i < 3; i++) {
      insert(store, MODEL);
    }
    Recorder feed = subscribe(store);
    List<AuditEntry> moves = new ArrayList<>();

    assertThat(move(store, PROD, 0, 1, moves)).contains(new AliasTarget(1, 1));
    assertThat(store.aliases(MODEL)).containsExactly(Map.entry(PROD, new AliasTarget(1, 1)));
    assertThat(move(store, PROD, 1, 2, moves)).contains(new AliasTarget(2, 2));
    assertThat(move(store, PROD, 2, 3, moves)).contains(new AliasTarget(3, 3));
    assertThat(move(store, STAGING, 0, 2, moves)).contains(new AliasTarget(2, 1));
    assertThat(move(store, PROD, 3, 1, moves)).contains(new AliasTarget(1, 4));

    assertThat(store.aliases(MODEL))
        .containsExactly(
            Map.entry(PROD, new AliasTarget(1, 4)), Map.entry(STAGING, new AliasTarget(2, 1)));
    assertThat(store.aliases(OTHER)).isEmpty();
    assertThat(store.audit(AuditQuery.builder().actions(AuditAction.SET_ALIAS).build()))
        .containsExactlyElementsOf(moves);
    assertThat(feed.await(moves.size())).containsExactlyElementsOf(moves);
  }

  /**
   * A compare-and-set from a version the alias is not at changes nothing, records nothing, delivers
   * nothing.
   */
  @Test
  public void aCompareAndSetFromAWrongExpectedChangesNothing() {
    S store = newStore();
    for (int i = 0; i < 3; i++) {
      insert(store, MODEL);
    }
    List<AuditEntry> before = new ArrayList<>();
    move(store, PROD, 0, 1, before);
    List<AuditEntry> audit = store.audit(AuditQuery.all());
    Recorder feed = subscribe(store);

    assertThat(move(store, PROD, 2, 3, null)).as("move from 2 while at 1").isEmpty();
    assertThat(move(store, PROD, 0, 3, null)).as("create while it exists").isEmpty();
    assertThat(move(store, PROD, 3, 0, null)).as("delete from 3 while at 1").isEmpty();
    assertThat(move(store, "canary", 1, 2, null)).as("move an alias that does not exist").isEmpty();

    assertThat(store.aliases(MODEL)).containsExactly(Map.entry(PROD, new AliasTarget(1, 1)));
    assertThat(store.audit(AuditQuery.all()))
        .as("audit after the failed compare-and-sets")
        .containsExactlyElementsOf(audit);
    AuditEntry marker = marker(store);
    assertThat(feed.await(1))
        .as("deliveries: only the change made after the failures")
        .containsExactly(marker);
  }

  /** Deleting an alias (target 0) removes it and reports version 0 at the next revision. */
  @Test
  public void deletingAnAliasRemovesItAtTheNextRevision() {
    S store = newStore();
    insert(store, MODEL);
    insert(store, MODEL);
    List<AuditEntry> changes = new ArrayList<>();
    move(store, PROD, 0, 1, changes);
    move(store, PROD, 1, 2, changes);
    move(store, STAGING, 0, 1, changes);
    Recorder feed = subscribe(store);

    AuditEntry deletion =
        entry(AuditAction.DELETE_ALIAS, MODEL, AuditDetails.aliasDeleted(PROD, 2));
    assertThat(store.compareAndSetAlias(MODEL, PROD, 2, 0, deletion))
        .contains(new AliasTarget(0, 3));
    assertThat(store.aliases(MODEL)).containsExactly(Map.entry(STAGING, new AliasTarget(1, 1)));
    assertThat(move(store, PROD, 2, 0, null)).as("deleting it again").isEmpty();
    assertThat(store.audit(AuditQuery.builder().actions(AuditAction.DELETE_ALIAS).build()))
        .containsExactly(deletion);
    // Version 2 has no alias now, so it can go.
    AuditEntry gone = entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(2, false));
    store.delete(MODEL, 2, gone);
    assertThat(feed.await(2)).containsExactly(deletion, gone);
  }

  /**
   * An alias deleted and created again continues its revision count, so that a watcher keyed on
   * (alias, revision) never mistakes the new alias for the old one.
   */
  @Test
  public void aReCreatedAliasContinuesTheRevisionCount() {
    S store = newStore();
    insert(store, MODEL);
    move(store, PROD, 0, 1, null);
    move(store, PROD, 1, 0, null);
    assertThat(move(store, PROD, 0, 1, null)).contains(new AliasTarget(1, 3));
    assertThat(store.aliases(MODEL)).containsExactly(Map.entry(PROD, new AliasTarget(1, 3)));
    store.close();
    S again = newAnother(store);
    assertThat(move(again, PROD, 1, 0, null)).contains(new AliasTarget(0, 4));
    assertThat(move(again, PROD, 0, 1, null)).contains(new AliasTarget(1, 5));
  }

  /**
   * {@value #THREADS} threads racing a compare-and-set from the same expected version, 5 rounds:
   * exactly one wins each round, with exactly one audit entry and one delivery.
   *
   * @throws Exception if interrupted
   */
  @Test
  public void racingCompareAndSetsFromOneExpectedHaveExactlyOneWinner() throws Exception {
    S store = newStore();
    for (int i = 0; i < 5; i++) {
      insert(store, MODEL);
    }
    move(store, PROD, 0, 1, new ArrayList<>());
    Recorder feed = subscribe(store);
    List<AuditEntry> winners = new ArrayList<>();
    int rounds = 5;
    for (int round = 0; round < rounds; round++) {
      AliasTarget current = store.aliases(MODEL).get(PROD);
      long from = current.version();
      Map<Integer, AliasTarget> won = new ConcurrentHashMap<>();
      Map<Integer, AuditEntry> entries = new ConcurrentHashMap<>();
      AtomicInteger lost = new AtomicInteger();
      int r = round;
      runAtOnce(
          THREADS,
          t -> {
            long to = (from + t % 4) % 5 + 1; // never from itself
            AuditEntry e =
                new AuditEntry(
                    at(1000 + r),
                    actor(t),
                    AuditAction.SET_ALIAS,
                    MODEL,
                    AuditDetails.aliasMoved(PROD, from, to, false, List.of()),
                    "round " + r + " thread " + t);
            entries.put(t, e);
            Optional<AliasTarget> result = store.compareAndSetAlias(MODEL, PROD, from, to, e);
            if (result.isPresent()) {
              won.put(t, result.get());
            } else {
              lost.incrementAndGet();
            }
          });
      assertThat(won).as("winners of round %d", round).hasSize(1);
      assertThat(lost).as("losers of round %d", round).hasValue(THREADS - 1);
      int winner = won.keySet().iterator().next();
      long to = (from + winner % 4) % 5 + 1;
      assertThat(won.get(winner)).isEqualTo(new AliasTarget(to, current.revision() + 1));
      assertThat(store.aliases(MODEL)).containsExactly(Map.entry(PROD, won.get(winner)));
      winners.add(entries.get(winner));
    }
    List<AuditEntry> moves =
        store.audit(AuditQuery.builder().actions(AuditAction.SET_ALIAS).build());
    assertThat(moves).hasSize(1 + rounds);
    assertThat(moves.subList(1, moves.size()))
        .as("audited moves after the first")
        .containsExactlyElementsOf(winners);
    assertThat(feed.await(rounds)).containsExactlyElementsOf(winners);
  }

  // ================================================================ rollouts

  /**
   * An alias's first rollout write gives revision 1 and each write bumps it; each write is audited
   * and delivered as its entry.
   */
  @Test
  public void writingARolloutGivesRevisionOneAndEachWriteBumpsIt() {
    S store = newStore();
    insert(store, MODEL);
    Recorder feed = subscribe(store);
    List<AuditEntry> writes = new ArrayList<>();

    assertThat(roll(store, MODEL, PROD, 0, "r1", writes)).hasValue(1);
    assertThat(store.rollouts(MODEL))
        .containsExactly(Map.entry(PROD, new StoredRollout(rolloutRecord("r1"), 1)));
    assertThat(roll(store, MODEL, PROD, 1, "r2", writes)).hasValue(2);
    assertThat(roll(store, MODEL, PROD, 2, "r3", writes)).hasValue(3);

    assertThat(store.rollouts(MODEL))
        .containsExactly(Map.entry(PROD, new StoredRollout(rolloutRecord("r3"), 3)));
    assertThat(store.rollouts(OTHER)).as("rollouts of a model never registered").isEmpty();
    assertThat(store.aliases(MODEL)).as("aliases after rollout writes").isEmpty();
    assertThat(
            store.audit(
                AuditQuery.builder()
                    .actions(AuditAction.START_ROLLOUT, AuditAction.UPDATE_ROLLOUT)
                    .build()))
        .containsExactlyElementsOf(writes);
    assertThat(feed.await(writes.size())).containsExactlyElementsOf(writes);
  }

  /**
   * A rollout write from a revision the alias's rollout is not at (or, with 0, while it has one)
   * changes nothing, records nothing, delivers nothing.
   */
  @Test
  public void aRolloutWriteFromAWrongExpectedChangesNothing() {
    S store = newStore();
    insert(store, MODEL);
    roll(store, MODEL, PROD, 0, "first", null);
    List<AuditEntry> audit = store.audit(AuditQuery.all());
    Recorder feed = subscribe(store);

    assertThat(roll(store, MODEL, PROD, 0, "again", null)).as("start while one exists").isEmpty();
    assertThat(roll(store, MODEL, PROD, 2, "ahead", null)).as("write from 2 while at 1").isEmpty();
    assertThat(roll(store, MODEL, STAGING, 1, "none", null))
        .as("write from 1 for an alias that never had a rollout")
        .isEmpty();

    assertThat(store.rollouts(MODEL))
        .containsExactly(Map.entry(PROD, new StoredRollout(rolloutRecord("first"), 1)));
    assertThat(store.audit(AuditQuery.all()))
        .as("audit after the refused writes")
        .containsExactlyElementsOf(audit);
    AuditEntry marker = marker(store);
    assertThat(feed.await(1))
        .as("deliveries: only the change made after the refused writes")
        .containsExactly(marker);
  }

  /**
   * Rollout writes between other changes are each in the audit log exactly once, in commit order,
   * and delivered once each, in that order, to every listener.
   */
  @Test
  public void aCommittedRolloutWriteIsAuditedAndDeliveredOnceInCommitOrder() {
    S store = newStore();
    insert(store, MODEL);
    insert(store, MODEL);
    List<AuditEntry> before = store.audit(AuditQuery.all());
    Recorder first = subscribe(store);
    Recorder second = subscribe(store);
    List<AuditEntry> changes = new ArrayList<>();

    roll(store, MODEL, PROD, 0, "start", changes);
    move(store, PROD, 0, 1, changes);
    roll(store, MODEL, PROD, 1, "weight", changes);
    roll(store, MODEL, STAGING, 0, "staging", changes);
    move(store, PROD, 1, 2, changes);
    AuditEntry end = entry(AuditAction.END_ROLLOUT, MODEL, rolloutDetails(PROD, "promote"));
    assertThat(store.compareAndSetRollout(MODEL, PROD, 2, rolloutRecord("ended"), end)).hasValue(3);
    changes.add(end);
    assertThat(roll(store, MODEL, PROD, 2, "late", changes))
        .as("a write from before the end")
        .isEmpty();

    List<AuditEntry> expected = new ArrayList<>(before);
    expected.addAll(changes);
    assertThat(store.audit(AuditQuery.all())).containsExactlyElementsOf(expected);
    assertThat(store.audit(AuditQuery.builder().actions(AuditAction.END_ROLLOUT).build()))
        .containsExactly(end);
    AuditEntry marker = marker(store);
    changes.add(marker);
    assertThat(first.await(changes.size())).as("first listener").containsExactlyElementsOf(changes);
    assertThat(second.await(changes.size()))
        .as("second listener")
        .containsExactlyElementsOf(changes);
    assertThat(store.rollouts(MODEL))
        .containsExactly(
            Map.entry(PROD, new StoredRollout(rolloutRecord("ended"), 3)),
            Map.entry(STAGING, new StoredRollout(rolloutRecord("staging"), 1)));
  }

  /**
   * {@value #THREADS} threads racing a rollout write from the same revision, 5 rounds (the first
   * from 0, the alias's first rollout): exactly one wins each round, with exactly one audit entry
   * and one delivery.
   *
   * @throws Exception if interrupted
   */
  @Test
  public void racingRolloutWritesFromOneExpectedHaveExactlyOneWinner() throws Exception {
    S store = newStore();
    insert(store, MODEL);
    Recorder feed = subscribe(store);
    List<AuditEntry> winners = new ArrayList<>();
    int rounds = 5;
    for (int round = 0; round < rounds; round++) {
      long from = round;
      Map<Integer, Long> won = new ConcurrentHashMap<>();
      Map<Integer, AuditEntry> entries = new ConcurrentHashMap<>();
      AtomicInteger lost = new AtomicInteger();
      int r = round;
      runAtOnce(
          THREADS,
          t -> {
            AuditEntry e =
                new AuditEntry(
                    at(2000 + r),
                    actor(t),
                    from == 0 ? AuditAction.START_ROLLOUT : AuditAction.UPDATE_ROLLOUT,
                    MODEL,
                    rolloutDetails(PROD, from == 0 ? "start" : "weight"),
                    "round " + r + " thread " + t);
            entries.put(t, e);
            OptionalLong result =
                store.compareAndSetRollout(
                    MODEL, PROD, from, rolloutRecord("round " + r + " thread " + t), e);
            if (result.isPresent()) {
              won.put(t, result.getAsLong());
            } else {
              lost.incrementAndGet();
            }
          });
      assertThat(won).as("winners of round %d", round).hasSize(1);
      assertThat(lost).as("losers of round %d", round).hasValue(THREADS - 1);
      int winner = won.keySet().iterator().next();
      assertThat(won.get(winner)).as("revision won in round %d", round).isEqualTo(from + 1);
      assertThat(store.rollouts(MODEL))
          .containsExactly(
              Map.entry(
                  PROD,
                  new StoredRollout(
                      rolloutRecord("round " + round + " thread " + winner), from + 1)));
      winners.add(entries.get(winner));
    }
    assertThat(
            store.audit(
                AuditQuery.builder()
                    .actions(AuditAction.START_ROLLOUT, AuditAction.UPDATE_ROLLOUT)
                    .build()))
        .containsExactlyElementsOf(winners);
    assertThat(feed.await(rounds)).containsExactlyElementsOf(winners);
    AuditEntry marker = marker(store);
    assertThat(feed.await(rounds + 1))
        .as("deliveries up to a later change")
        .containsExactlyElementsOf(concat(winners, marker));
  }

  /**
   * A rollout write for a model that has no version is refused with {@link ConflictException} and
   * stores, records and delivers nothing.
   */
  @Test
  public void aRolloutOfAModelWithNoVersionIsRefused() {
    S store = newStore();
    insert(store, MODEL);
    List<AuditEntry> audit = store.audit(AuditQuery.all());
    Recorder feed = subscribe(store);

    assertConflict(
        () -> roll(store, OTHER, PROD, 0, "nowhere", null), "a rollout of an unknown model");
    assertConflict(
        () -> roll(store, OTHER, PROD, 1, "nowhere", null),
        "a rollout of an unknown model from revision 1");

    assertThat(store.models()).containsExactly(MODEL);
    assertThat(store.rollouts(OTHER)).isEmpty();
    assertThat(store.audit(AuditQuery.all())).containsExactlyElementsOf(audit);
    AuditEntry marker = marker(store);
    assertThat(feed.await(1)).as("deliveries after the refusals").containsExactly(marker);
  }

  /**
   * Each alias's rollout has its own revision, also across models, and records and revisions are
   * there after closing and reopening, where writes continue from them.
   */
  @Test
  public void rolloutsPerAliasAreIndependentAndSurviveClosingAndReopening() {
    S store = newStore();
    insert(store, MODEL);
    insert(store, OTHER);
    roll(store, MODEL, PROD, 0, "prod 1", null);
    roll(store, MODEL, PROD, 1, "prod 2", null);
    roll(store, MODEL, STAGING, 0, "staging 1", null);
    roll(store, OTHER, PROD, 0, "other 1", null);
    assertThat(roll(store, MODEL, STAGING, 2, "staging at prod's revision", null))
        .as("a write to staging from prod's revision")
        .isEmpty();
    Map<String, StoredRollout> rollouts = store.rollouts(MODEL);
    assertThat(rollouts)
        .containsExactly(
            Map.entry(PROD, new StoredRollout(rolloutRecord("prod 2"), 2)),
            Map.entry(STAGING, new StoredRollout(rolloutRecord("staging 1"), 1)));
    assertThat(store.rollouts(OTHER))
        .containsExactly(Map.entry(PROD, new StoredRollout(rolloutRecord("other 1"), 1)));
    List<AuditEntry> audit = store.audit(AuditQuery.all());
    store.close();

    S reopened = newAnother(store);
    assertThat(reopened.rollouts(MODEL)).isEqualTo(rollouts);
    assertThat(reopened.rollouts(OTHER))
        .containsExactly(Map.entry(PROD, new StoredRollout(rolloutRecord("other 1"), 1)));
    assertThat(reopened.audit(AuditQuery.all())).isEqualTo(audit);
    assertThat(roll(reopened, MODEL, PROD, 2, "prod 3", null)).hasValue(3);
    assertThat(roll(reopened, MODEL, STAGING, 1, "staging 2", null)).hasValue(2);
    assertThat(reopened.rollouts(MODEL))
        .containsExactly(
            Map.entry(PROD, new StoredRollout(rolloutRecord("prod 3"), 3)),
            Map.entry(STAGING, new StoredRollout(rolloutRecord("staging 2"), 2)));
  }

  /**
   * Instances on one backing see each other's rollout writes, and a write from a revision another
   * instance moved past is refused; when the feed is shared, each delivers the other's writes.
   */
  @Test
  public void instancesOnOneBackingSeeEachOthersRolloutWrites() {
    S a = newStore();
    S b = newAnother(a);
    insert(a, MODEL);
    Recorder onA = subscribe(a);
    Recorder onB = subscribe(b);
    List<AuditEntry> writes = new ArrayList<>();

    assertThat(roll(a, MODEL, PROD, 0, "by a", writes)).hasValue(1);
    assertThat(b.rollouts(MODEL))
        .containsExactly(Map.entry(PROD, new StoredRollout(rolloutRecord("by a"), 1)));
    assertThat(roll(b, MODEL, PROD, 1, "by b", writes)).hasValue(2);
    assertThat(roll(a, MODEL, PROD, 1, "by a, stale", null))
        .as("a write from the revision the other instance moved past")
        .isEmpty();
    assertThat(a.rollouts(MODEL))
        .containsExactly(Map.entry(PROD, new StoredRollout(rolloutRecord("by b"), 2)));

    if (instancesInOneJvmShareTheFeed()) {
      assertThat(onA.await(2)).as("deliveries on the first").containsExactlyElementsOf(writes);
      assertThat(onB.await(2)).as("deliveries on the second").containsExactlyElementsOf(writes);
    } else {
      assertThat(onA.await(1)).as("deliveries on the first").contains(writes.get(0));
      assertThat(onB.await(1)).as("deliveries on the second").contains(writes.get(1));
    }
  }

  /**
   * A rollout written by a child process is visible here, and a child's write from a revision this
   * process moved past is refused.
   *
   * @throws Exception if a child cannot be started or the wait is interrupted
   */
  @Test
  public void aRolloutWrittenByAChildProcessIsVisible() throws Exception {
    S store = newStore();
    ChildProcessStore child = requireChildProcessStore(store);
    insert(store, MODEL);
    try (ChildJvm c = startWorker(child, "rollout-1", "rollout", MODEL, PROD, "0", "process-a")) {
      assertThat(c.awaitLine("ROLLOUT ", CHILD_TIMEOUT))
          .as("the child's write%s", c.diagnostics())
          .isEqualTo("ROLLOUT 1");
      c.awaitLine("DONE", CHILD_TIMEOUT);
      assertThat(c.awaitExit(CHILD_TIMEOUT)).as("exit code%s", c.diagnostics()).isZero();
    }
    assertThat(store.rollouts(MODEL))
        .containsExactly(
            Map.entry(
                PROD,
                new StoredRollout(StoreSamples.rolloutRecord(MODEL, PROD, 1, "process-a"), 1)));
    AuditEntry mine = StoreSamples.rolloutWritten(MODEL, PROD, 2, "parent");
    assertThat(
            store.compareAndSetRollout(
                MODEL, PROD, 1, StoreSamples.rolloutRecord(MODEL, PROD, 2, "parent"), mine))
        .hasValue(2);
    try (ChildJvm c = startWorker(child, "rollout-2", "rollout", MODEL, PROD, "1", "process-b")) {
      assertThat(c.awaitLine("REFUSED", CHILD_TIMEOUT))
          .as("the child's stale write%s", c.diagnostics())
          .isEqualTo("REFUSED");
      c.awaitLine("DONE", CHILD_TIMEOUT);
      assertThat(c.awaitExit(CHILD_TIMEOUT)).as("exit code%s", c.diagnostics()).isZero();
    }
    assertThat(store.rollouts(MODEL))
        .containsExactly(
            Map.entry(
                PROD, new StoredRollout(StoreSamples.rolloutRecord(MODEL, PROD, 2, "parent"), 2)));
    assertThat(
            store.audit(
                AuditQuery.builder()
                    .actions(AuditAction.START_ROLLOUT, AuditAction.UPDATE_ROLLOUT)
                    .build()))
        .containsExactly(StoreSamples.rolloutWritten(MODEL, PROD, 1, "process-a"), mine);
  }

  // ================================================================ references

  /**
   * An alias move to a version that never existed, was deleted, or belongs to no model is refused.
   */
  @Test
  public void anAliasMoveToAMissingVersionIsRefusedAndChangesNothing() {
    S store = newStore();
    insert(store, MODEL);
    insert(store, MODEL);
    store.delete(
        MODEL, 2, entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(2, false)));
    Recorder feed = subscribe(store);

    assertConflict(
        () -> move(store, PROD, 0, 7, null), "creating an alias at a version that never existed");
    assertThat(store.aliases(MODEL)).as("aliases after the refused creation").isEmpty();
    List<AuditEntry> changes = new ArrayList<>();
    move(store, PROD, 0, 1, changes);
    List<AuditEntry> audit = store.audit(AuditQuery.all());
    assertConflict(() -> move(store, PROD, 1, 7, null), "moving to a version that never existed");
    assertConflict(() -> move(store, PROD, 1, 2, null), "moving to a deleted version");
    assertConflict(
        () ->
            store.compareAndSetAlias(
                "kit-none",
                PROD,
                0,
                1,
                entry(
                    AuditAction.SET_ALIAS,
                    "kit-none",
                    AuditDetails.aliasMoved(PROD, 0, 1, false, List.of()))),
        "an alias of a model that has no versions");

    assertThat(store.aliases(MODEL)).containsExactly(Map.entry(PROD, new AliasTarget(1, 1)));
    assertThat(store.aliases("kit-none")).isEmpty();
    assertThat(store.models()).containsExactly(MODEL);
    assertThat(store.audit(AuditQuery.all())).containsExactlyElementsOf(audit);
    changes.add(marker(store));
    assertThat(feed.await(2)).containsExactlyElementsOf(changes);
  }

  /** An alias cannot be created at, or moved to, an archived version. */
  @Test
  public void anAliasMoveToAnArchivedVersionIsRefusedAndChangesNothing() {
    S store = newStore();
    insert(store, MODEL);
    insert(store, MODEL);
    store.archive(MODEL, 2, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(2, false)));
    Recorder feed = subscribe(store);

    assertConflict(() -> move(store, PROD, 0, 2, null), "creating an alias at an archived version");
    List<AuditEntry> changes = new ArrayList<>();
    move(store, PROD, 0, 1, changes);
    List<AuditEntry> audit = store.audit(AuditQuery.all());
    assertConflict(() -> move(store, PROD, 1, 2, null), "moving an alias to an archived version");

    assertThat(store.aliases(MODEL)).containsExactly(Map.entry(PROD, new AliasTarget(1, 1)));
    assertThat(store.audit(AuditQuery.all())).containsExactlyElementsOf(audit);
    changes.add(marker(store));
    assertThat(feed.await(2)).containsExactlyElementsOf(changes);
  }

  /**
   * A version an alias points at can be neither archived nor deleted; once the alias moves, it can.
   */
  @Test
  public void archivingOrDeletingAnAliasedVersionIsRefusedAndChangesNothing() {
    S store = newStore();
    ModelVersion v1 = insert(store, MODEL);
    ModelVersion v2 = insert(store, MODEL);
    move(store, PROD, 0, 1, new ArrayList<>());
    move(store, STAGING, 0, 1, new ArrayList<>());
    List<AuditEntry> audit = store.audit(AuditQuery.all());
    Recorder feed = subscribe(store);

    assertConflict(
        () ->
            store.archive(
                MODEL, 1, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(1, false))),
        "archiving a version two aliases point at");
    assertConflict(
        () ->
            store.delete(
                MODEL, 1, entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(1, false))),
        "deleting it");

    assertThat(store.versions(MODEL)).containsExactly(v1, v2);
    assertThat(store.version(MODEL, 1)).contains(v1);
    assertThat(store.aliases(MODEL))
        .containsExactly(
            Map.entry(PROD, new AliasTarget(1, 1)), Map.entry(STAGING, new AliasTarget(1, 1)));
    assertThat(store.audit(AuditQuery.all())).containsExactlyElementsOf(audit);

    List<AuditEntry> changes = new ArrayList<>();
    move(store, PROD, 1, 2, changes);
    assertConflict(
        () ->
            store.archive(
                MODEL, 1, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(1, false))),
        "archiving a version one alias still points at");
    move(store, STAGING, 1, 2, changes);
    AuditEntry archived = entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(1, false));
    assertThat(store.archive(MODEL, 1, archived)).as("archive once no alias points at it").isTrue();
    changes.add(archived);
    assertThat(feed.await(3)).containsExactlyElementsOf(changes);
  }

  /**
   * Archiving returns true, then false; records and delivers once; archived versions are listed as
   * ARCHIVED.
   */
  @Test
  public void archivingTwiceReturnsTrueThenFalseAndRecordsOnce() {
    S store = newStore();
    ModelVersion v1 = insert(store, MODEL);
    ModelVersion v2 = insert(store, MODEL);
    Recorder feed = subscribe(store);

    AuditEntry first = entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(1, false));
    AuditEntry second = entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(1, true));
    assertThat(store.archive(MODEL, 1, first)).as("first archive").isTrue();
    assertThat(store.archive(MODEL, 1, second)).as("second archive").isFalse();

    ModelVersion archived = v1.withStatus(VersionStatus.ARCHIVED);
    assertThat(store.versions(MODEL)).containsExactly(archived, v2);
    assertThat(store.version(MODEL, 1)).contains(archived);
    assertThat(store.version(MODEL, 2)).contains(v2);
    assertThat(store.audit(AuditQuery.builder().actions(AuditAction.ARCHIVE).build()))
        .containsExactly(first);
    AuditEntry marker = marker(store);
    assertThat(feed.await(2)).containsExactly(first, marker);
  }

  /**
   * Deleted versions (ready or archived) are not listed, not readable, and cannot be archived or
   * deleted again.
   */
  @Test
  public void deletedVersionsAreNotListedAndCannotBeRead() {
    S store = newStore();
    ModelVersion v1 = insert(store, MODEL);
    insert(store, MODEL);
    insert(store, MODEL);
    store.archive(MODEL, 3, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(3, false)));
    AuditEntry d2 = entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(2, false));
    AuditEntry d3 = entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(3, true));
    store.delete(MODEL, 2, d2);
    store.delete(MODEL, 3, d3);

    assertThat(store.versions(MODEL)).containsExactly(v1);
    assertThat(store.version(MODEL, 2)).isEmpty();
    assertThat(store.version(MODEL, 3)).isEmpty();
    assertThat(store.models()).containsExactly(MODEL);
    assertThat(store.audit(AuditQuery.builder().actions(AuditAction.DELETE_VERSION).build()))
        .containsExactly(d2, d3);
    assertThatThrownBy(
            () ->
                store.archive(
                    MODEL, 2, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(2, false))))
        .as("archiving a deleted version")
        .isInstanceOf(ModelNotFoundException.class);
    assertThatThrownBy(
            () ->
                store.delete(
                    MODEL,
                    3,
                    entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(3, false))))
        .as("deleting a deleted version")
        .isInstanceOf(ModelNotFoundException.class);
    assertThat(store.audit(AuditQuery.all())).hasSize(6);
  }

  /**
   * Archiving or deleting a version that never existed throws ModelNotFoundException and records
   * nothing.
   */
  @Test
  public void archivingOrDeletingAMissingVersionThrowsModelNotFound() {
    S store = newStore();
    assertThatThrownBy(
            () ->
                store.archive(
                    MODEL, 1, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(1, false))))
        .as("archive in a model without versions")
        .isInstanceOf(ModelNotFoundException.class);
    assertThatThrownBy(
            () ->
                store.delete(
                    MODEL,
                    1,
                    entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(1, false))))
        .as("delete in a model without versions")
        .isInstanceOf(ModelNotFoundException.class);
    insert(store, MODEL);
    assertThatThrownBy(
            () ->
                store.archive(
                    MODEL, 2, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(2, false))))
        .as("archive of the next number")
        .isInstanceOf(ModelNotFoundException.class);
    assertThatThrownBy(
            () ->
                store.delete(
                    MODEL,
                    9,
                    entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(9, false))))
        .as("delete of a number never given")
        .isInstanceOf(ModelNotFoundException.class);

    assertThat(store.audit(AuditQuery.all()))
        .containsExactly(StoreSamples.registered(MODEL, 1, "kit"));
    assertThat(store.versions(MODEL)).containsExactly(StoreSamples.version(MODEL, 1, "kit"));
  }

  // ================================================================ audit

  /**
   * The audit returns every change's entry exactly as given (awkward text, nanoseconds), in commit
   * order.
   */
  @Test
  public void auditReturnsEachChangeWithExactlyItsEntryInCommitOrder() {
    S store = newStore();
    List<AuditEntry> expected = new ArrayList<>();
    String awkward = StoreSamples.AWKWARD;
    for (int i = 1; i <= 3; i++) {
      AuditEntry e =
          new AuditEntry(
              at(i).plusNanos(i),
              "ci@example.com " + awkward,
              AuditAction.REGISTER,
              MODEL,
              withExtra(
                  AuditDetails.registered(
                      i, StoreSamples.sha256("m" + i), Map.of(AuditDetails.SIGNATURE, "missing")),
                  "note",
                  awkward),
              "reason " + i + " " + awkward);
      NewVersion nv = sample(MODEL, i, "kit");
      assertThat(
              store
                  .insertVersion(MODEL, n -> new NewVersion(nv.version(), nv.files(), e))
                  .version())
          .isEqualTo(i);
      expected.add(e);
    }
    expected.add(
        append(
            store, entry(AuditAction.LOAD_FAILED, MODEL, AuditDetails.failure(2, awkward, null))));
    move(store, PROD, 0, 1, expected);
    insert(store, OTHER);
    expected.add(StoreSamples.registered(OTHER, 1, "kit"));
    move(store, PROD, 1, 2, expected);
    AuditEntry archive = entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(3, false));
    store.archive(MODEL, 3, archive);
    expected.add(archive);
    expected.add(
        append(
            store,
            entry(AuditAction.VERIFICATION_FAILED, OTHER, AuditDetails.failure(1, "", "key-1"))));
    AuditEntry delete = entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(3, true));
    store.delete(MODEL, 3, delete);
    expected.add(delete);
    AuditEntry aliasDeleted =
        entry(AuditAction.DELETE_ALIAS, MODEL, AuditDetails.aliasDeleted(PROD, 2));
    store.compareAndSetAlias(MODEL, PROD, 2, 0, aliasDeleted);
    expected.add(aliasDeleted);

    assertThat(store.audit(AuditQuery.all())).containsExactlyElementsOf(expected);
    assertThat(newAnother(store).audit(AuditQuery.all()))
        .as("audit read by another instance")
        .containsExactlyElementsOf(expected);
  }

  /** appendAudit entries appear in the audit, in order with changes, and change no state. */
  @Test
  public void appendedAuditEntriesAppearAndChangeNoState() {
    S store = newStore();
    AuditEntry loadFailed =
        append(store, entry(AuditAction.LOAD_FAILED, MODEL, AuditDetails.failure(1, "boom", null)));
    AuditEntry signatureFailed =
        append(
            store,
            entry(
                AuditAction.SIGNATURE_FAILED,
                MODEL,
                AuditDetails.failure(1, "untrusted", "key-9")));

    assertThat(store.audit(AuditQuery.all())).containsExactly(loadFailed, signatureFailed);
    assertThat(store.models()).as("models after appends only").isEmpty();
    assertThat(store.versions(MODEL)).isEmpty();
    assertThat(store.aliases(MODEL)).isEmpty();

    insert(store, MODEL);
    AuditEntry refused =
        append(
            store,
            entry(
                AuditAction.SWAP_REFUSED,
                MODEL,
                AuditDetails.swapRefused(
                    1,
                    1,
                    dev.mlops.api.ModelRef.alias(MODEL, PROD),
                    List.of("input 'x' is gone"))));
    assertThat(store.audit(AuditQuery.all()))
        .containsExactly(
            loadFailed, signatureFailed, StoreSamples.registered(MODEL, 1, "kit"), refused);
    assertThat(store.versions(MODEL)).containsExactly(StoreSamples.version(MODEL, 1, "kit"));
    assertThat(insert(store, MODEL).version()).as("number after appends").isEqualTo(2);
  }

  /**
   * Audit queries filter by model, action, version, alias, actor and time, each alone and combined.
   */
  @Test
  public void auditQueriesFilterByModelActionVersionAliasActorAndTime() {
    S store = newStore();
    List<AuditEntry> h = new ArrayList<>();
    h.add(insertAs(store, MODEL, "alice", 0)); // 0: register m/1
    h.add(insertAs(store, MODEL, "bob", 1)); // 1: register m/2
    h.add(insertAs(store, OTHER, "alice", 2)); // 2: register other/1
    h.add(cas(store, MODEL, PROD, 0, 1, "alice", 3)); // 3
    h.add(cas(store, MODEL, PROD, 1, 2, "bob", 4)); // 4
    AuditEntry archive =
        new AuditEntry(
            at(5), "carol", AuditAction.ARCHIVE, MODEL, AuditDetails.version(1, false), "");
    store.archive(MODEL, 1, archive);
    h.add(archive); // 5
    h.add(
        append(
            store,
            new AuditEntry(
                at(6),
                "mlops",
                AuditAction.LOAD_FAILED,
                MODEL,
                AuditDetails.failure(2, "cannot load", null),
                ""))); // 6
    AuditEntry aliasDeleted =
        new AuditEntry(
            at(7),
            "alice",
            AuditAction.DELETE_ALIAS,
            MODEL,
            AuditDetails.aliasDeleted(PROD, 2),
            "");
    store.compareAndSetAlias(MODEL, PROD, 2, 0, aliasDeleted);
    h.add(aliasDeleted); // 7
    AuditEntry deleted =
        new AuditEntry(
            at(8), "bob", AuditAction.DELETE_VERSION, OTHER, AuditDetails.version(1, false), "");
    store.delete(OTHER, 1, deleted);
    h.add(deleted); // 8

    assertThat(store.audit(AuditQuery.all())).containsExactlyElementsOf(h);
    assertQuery(store, AuditQuery.builder().model(MODEL), h, 0, 1, 3, 4, 5, 6, 7);
    assertQuery(store, AuditQuery.builder().model(OTHER), h, 2, 8);
    assertQuery(store, AuditQuery.builder().actions(AuditAction.REGISTER), h, 0, 1, 2);
    assertQuery(
        store,
        AuditQuery.builder().actions(AuditAction.SET_ALIAS, AuditAction.DELETE_ALIAS),
        h,
        3,
        4,
        7);
    assertQuery(store, AuditQuery.builder().version(2), h, 1, 4, 6, 7);
    assertQuery(store, AuditQuery.builder().version(1), h, 0, 2, 3, 4, 5, 8);
    assertQuery(store, AuditQuery.builder().alias(PROD), h, 3, 4, 7);
    assertQuery(store, AuditQuery.builder().actor("bob"), h, 1, 4, 8);
    assertQuery(store, AuditQuery.builder().from(at(3)).to(at(6)), h, 3, 4, 5);
    assertQuery(store, AuditQuery.builder().from(at(7)), h, 7, 8);
    assertQuery(store, AuditQuery.builder().to(at(1)), h, 0);
    assertQuery(store, AuditQuery.builder().model(MODEL).actor("alice").from(at(2)), h, 3, 7);
    assertQuery(store, AuditQuery.builder().model(OTHER).actions(AuditAction.SET_ALIAS), h);
  }

  private static void assertQuery(
      ModelStore store, AuditQuery.Builder query, List<AuditEntry> history, int... expected) {
    AuditQuery q = query.build();
    List<AuditEntry> want = new ArrayList<>();
    for (int i : expected) {
      want.add(history.get(i));
    }
    assertThat(store.audit(q)).as("audit(%s)", q).containsExactlyElementsOf(want);
  }

  // ================================================================ side files

  /**
   * Side files (every byte value, 64 KiB, an empty one) come back byte for byte; absent ones are
   * empty.
   */
  @Test
  public void sideFilesRoundTripByteForByte() {
    S store = newStore();
    Map<String, byte[]> files = StoreSamples.sideFiles(1, SIDE_FILE_BYTES);
    ModelVersion v1 =
        store.insertVersion(MODEL, n -> StoreSamples.newVersion(MODEL, n, "kit", files));
    ModelVersion v2 = insert(store, MODEL);
    assertThat(v1).isEqualTo(StoreSamples.version(MODEL, 1, "kit", files));
    assertThat(v1.hasInputExample()).isTrue();
    assertThat(v1.attachments()).hasSize(3);

    assertSideFiles(store, 1, files);
    assertThat(store.file(MODEL, 1, NewVersion.ATTACHMENTS + "missing.bin")).isEmpty();
    assertThat(store.file(MODEL, v2.version(), NewVersion.INPUT_EXAMPLE))
        .as("a version without side files")
        .isEmpty();
    assertThat(store.file(MODEL, 9, NewVersion.INPUT_EXAMPLE))
        .as("a version that does not exist")
        .isEmpty();
    assertThat(store.file(OTHER, 1, NewVersion.INPUT_EXAMPLE))
        .as("a model that does not exist")
        .isEmpty();
    assertSideFiles(newAnother(store), 1, files);
  }

  /** A deleted version's side files are gone; another version's stay. */
  @Test
  public void sideFilesAreGoneWithADeletedVersion() {
    S store = newStore();
    Map<String, byte[]> files1 = StoreSamples.sideFiles(1, SIDE_FILE_BYTES);
    Map<String, byte[]> files2 = StoreSamples.sideFiles(2, SIDE_FILE_BYTES);
    store.insertVersion(MODEL, n -> StoreSamples.newVersion(MODEL, n, "kit", files1));
    store.insertVersion(MODEL, n -> StoreSamples.newVersion(MODEL, n, "kit", files2));

    store.delete(
        MODEL, 1, entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(1, false)));

    for (String name : files1.keySet()) {
      assertThat(store.file(MODEL, 1, name))
          .as("side file %s of the deleted version", name)
          .isEmpty();
    }
    assertSideFiles(store, 2, files2);
    assertThat(insert(store, MODEL).version()).isEqualTo(3);
    assertThat(store.file(MODEL, 3, NewVersion.INPUT_EXAMPLE)).isEmpty();
  }

  private static void assertSideFiles(ModelStore store, long version, Map<String, byte[]> files) {
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      Optional<byte[]> stored = store.file(MODEL, version, f.getKey());
      assertThat(stored).as("side file %s of version %d", f.getKey(), version).isPresent();
      assertThat(StoreSamples.difference(stored.get(), f.getValue()))
          .as("how side file %s of version %d differs from what was inserted", f.getKey(), version)
          .isNull();
    }
  }

  // ================================================================ change feed

  /**
   * Each committed change, of every kind, is delivered once and in commit order to every listener.
   */
  @Test
  public void theFeedDeliversEachCommittedChangeOnceInCommitOrder() {
    S store = newStore();
    Recorder first = subscribe(store);
    Recorder second = subscribe(store);
    List<AuditEntry> changes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      insert(store, MODEL);
      changes.add(StoreSamples.registered(MODEL, i + 1, "kit"));
    }
    move(store, PROD, 0, 1, changes);
    move(store, PROD, 1, 2, changes);
    AuditEntry archive = entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(1, false));
    store.archive(MODEL, 1, archive);
    changes.add(archive);
    AuditEntry aliasDeleted =
        entry(AuditAction.DELETE_ALIAS, MODEL, AuditDetails.aliasDeleted(PROD, 2));
    store.compareAndSetAlias(MODEL, PROD, 2, 0, aliasDeleted);
    changes.add(aliasDeleted);
    AuditEntry deleted = entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(3, false));
    store.delete(MODEL, 3, deleted);
    changes.add(deleted);
    insert(store, OTHER);
    changes.add(StoreSamples.registered(OTHER, 1, "kit"));

    assertThat(first.await(changes.size())).as("first listener").containsExactlyElementsOf(changes);
    assertThat(second.await(changes.size()))
        .as("second listener")
        .containsExactlyElementsOf(changes);
  }

  /**
   * When a change is delivered, reads already show it: a registration's version, an alias's target.
   */
  @Test
  public void aDeliveredChangeIsAlreadyVisibleToReads() {
    S store = newStore();
    List<String> seen = new CopyOnWriteArrayList<>();
    Recorder feed =
        new Recorder() {
          @Override
          public void changed(AuditEntry change) {
            String version =
                change
                    .details()
                    .getOrDefault(AuditDetails.VERSION, change.details().get(AuditDetails.TO));
            long n = Long.parseLong(version);
            if (change.action() == AuditAction.REGISTER) {
              seen.add(
                  "version "
                      + n
                      + " "
                      + (store.version(change.model(), n).isPresent() ? "readable" : "missing"));
            } else {
              AliasTarget t =
                  store.aliases(change.model()).get(change.details().get(AuditDetails.ALIAS));
              seen.add("alias at " + (t == null ? 0 : t.version()));
            }
            super.changed(change);
          }
        };
    feed.handle = store.subscribe(feed);
    insert(store, MODEL);
    insert(store, MODEL);
    move(store, PROD, 0, 2, new ArrayList<>());

    assertThat(feed.await(3)).hasSize(3);
    assertThat(seen).containsExactly("version 1 readable", "version 2 readable", "alias at 2");
  }

  /**
   * {@value #THREADS} threads inserting and racing compare-and-sets at once: the feed delivers
   * every committed change once, in the order of the audit log.
   *
   * @throws Exception if interrupted
   */
  @Test
  public void theFeedDeliversConcurrentChangesOnceInCommitOrder() throws Exception {
    S store = newStore();
    insert(store, MODEL);
    insert(store, MODEL);
    move(store, PROD, 0, 1, new ArrayList<>());
    int before = store.audit(AuditQuery.all()).size();
    Recorder feed = subscribe(store);
    AtomicInteger committed = new AtomicInteger();
    runAtOnce(
        THREADS,
        t -> {
          for (int i = 0; i < 3; i++) {
            if (t % 2 == 0) {
              store.insertVersion(MODEL, n -> sample(MODEL, n, actor(t)));
              committed.incrementAndGet();
            } else {
              AliasTarget current = store.aliases(MODEL).get(PROD);
              long to = current.version() == 1 ? 2 : 1;
              AuditEntry e =
                  new AuditEntry(
                      at(t * 10 + i),
                      actor(t),
                      AuditAction.SET_ALIAS,
                      MODEL,
                      AuditDetails.aliasMoved(PROD, current.version(), to, false, List.of()),
                      "thread " + t + " try " + i);
              if (store.compareAndSetAlias(MODEL, PROD, current.version(), to, e).isPresent()) {
                committed.incrementAndGet();
              }
            }
          }
        });
    List<AuditEntry> audit = store.audit(AuditQuery.all());
    assertThat(audit).hasSize(before + committed.get());
    List<AuditEntry> since = audit.subList(before, audit.size());
    assertThat(feed.await(since.size()))
        .as("deliveries, against the audit log")
        .containsExactlyElementsOf(since);
    assertThat(
            since.stream()
                .filter(e -> e.action() == AuditAction.REGISTER)
                .map(e -> Long.parseLong(e.details().get(AuditDetails.VERSION))))
        .as("registrations in delivery order")
        .containsExactlyElementsOf(
            LongStream.rangeClosed(3, 2 + THREADS / 2 * 3).boxed().collect(Collectors.toList()));
  }

  /** Failed, refused and no-op changes deliver nothing. */
  @Test
  public void refusedAndFailedChangesDeliverNothing() {
    S store = newStore();
    insert(store, MODEL);
    insert(store, MODEL);
    move(store, PROD, 0, 1, new ArrayList<>());
    store.archive(MODEL, 2, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(2, false)));
    List<AuditEntry> audit = store.audit(AuditQuery.all());
    Recorder feed = subscribe(store);

    expectFailure(
        () ->
            store.insertVersion(
                MODEL,
                n -> {
                  throw new IllegalStateException("make failed on purpose");
                }));
    expectFailure(() -> store.insertVersion(MODEL, n -> sample(MODEL, n + 5, "kit")));
    assertThat(move(store, PROD, 2, 1, null)).isEmpty();
    expectFailure(() -> move(store, PROD, 1, 9, null));
    expectFailure(() -> move(store, PROD, 1, 2, null));
    expectFailure(
        () ->
            store.archive(
                MODEL, 1, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(1, false))));
    expectFailure(
        () ->
            store.delete(
                MODEL,
                1,
                entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(1, false))));
    assertThat(
            store.archive(
                MODEL, 2, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(2, true))))
        .isFalse();
    expectFailure(
        () ->
            store.archive(
                MODEL, 7, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(7, false))));
    expectFailure(
        () ->
            store.delete(
                MODEL,
                7,
                entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(7, false))));

    assertThat(store.audit(AuditQuery.all())).containsExactlyElementsOf(audit);
    AuditEntry marker = marker(store);
    assertThat(feed.await(1))
        .as("deliveries: only the change after the failures")
        .containsExactly(marker);
  }

  /**
   * Closing a subscription stops its delivery; other listeners keep theirs; closing it twice is
   * harmless.
   *
   * @throws Exception if closing the subscription does
   */
  @Test
  public void closingTheSubscriptionStopsDelivery() throws Exception {
    S store = newStore();
    Recorder closed = subscribe(store);
    Recorder open = subscribe(store);
    insert(store, MODEL);
    AuditEntry first = StoreSamples.registered(MODEL, 1, "kit");
    assertThat(closed.await(1)).containsExactly(first);
    assertThat(open.await(1)).containsExactly(first);

    closed.handle.close();
    insert(store, MODEL);
    move(store, PROD, 0, 2, new ArrayList<>());
    assertThat(open.await(3)).hasSize(3);
    assertThat(closed.changes).as("deliveries to the closed subscription").containsExactly(first);
    closed.handle.close();
  }

  /**
   * Instances on one backing in this JVM see each other's changes, in commit order (when the store
   * says so).
   */
  @Test
  public void instancesOnOneBackingInThisJvmSeeEachOthersChanges() {
    Assumptions.assumeTrue(
        instancesInOneJvmShareTheFeed(),
        "the store does not declare that instances in one JVM share the change feed"
            + " (instancesInOneJvmShareTheFeed() is false)");
    S a = newStore();
    S b = newAnother(a);
    Recorder onA = subscribe(a);
    Recorder onB = subscribe(b);
    List<AuditEntry> changes = new ArrayList<>();
    insert(a, MODEL);
    changes.add(StoreSamples.registered(MODEL, 1, "kit"));
    insert(b, MODEL);
    changes.add(StoreSamples.registered(MODEL, 2, "kit"));
    move(a, PROD, 0, 2, changes);
    move(b, PROD, 2, 1, changes);

    assertThat(onA.await(4))
        .as("deliveries on the first instance")
        .containsExactlyElementsOf(changes);
    assertThat(onB.await(4))
        .as("deliveries on the second instance")
        .containsExactlyElementsOf(changes);
  }

  /**
   * A closed instance delivers nothing more, while another on its backing goes on (when the store
   * shares its feed).
   */
  @Test
  public void aClosedStoreDeliversNothingToItsListeners() {
    Assumptions.assumeTrue(
        instancesInOneJvmShareTheFeed(),
        "without a feed shared by instances in one JVM, a closed instance has no changes to deliver"
            + " (instancesInOneJvmShareTheFeed() is false)");
    S a = newStore();
    S b = newAnother(a);
    Recorder onA = subscribe(a);
    Recorder onB = subscribe(b);
    insert(b, MODEL);
    AuditEntry first = StoreSamples.registered(MODEL, 1, "kit");
    assertThat(onA.await(1)).containsExactly(first);

    a.close();
    insert(b, MODEL);
    move(b, PROD, 0, 1, new ArrayList<>());
    assertThat(onB.await(3)).hasSize(3);
    assertThat(onA.changes)
        .as("deliveries to a listener of the closed instance")
        .containsExactly(first);
  }

  /**
   * After the store lost its connection to shared state and got it back, every listener is asked to
   * resync once, and changes are delivered again. Skipped unless {@link #loseConnection} is given.
   */
  @Test
  public void aLostConnectionAsksListenersToResyncAndDeliveryGoesOn() {
    S store = newStore();
    Optional<Runnable> disconnect = loseConnection(store);
    Assumptions.assumeTrue(
        disconnect.isPresent(), "the store has no connection to shared state that it could lose");
    Recorder feed = subscribe(store);
    disconnect.get().run();
    long deadline = System.nanoTime() + feedTimeout().toNanos();
    while (feed.resyncs.get() == 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
    assertThat(feed.resyncs.get()).as("resyncs asked for").isEqualTo(1);
    insert(store, MODEL);
    assertThat(feed.await(1)).extracting(AuditEntry::action).containsExactly(AuditAction.REGISTER);
  }

  // ================================================================ durability

  /**
   * Models, versions, statuses, side files, aliases with revisions and the audit survive closing
   * and reopening.
   */
  @Test
  public void everythingIsThereAfterClosingAndReopening() {
    S store = newStore();
    Map<String, byte[]> files = StoreSamples.sideFiles(1, SIDE_FILE_BYTES);
    store.insertVersion(MODEL, n -> StoreSamples.newVersion(MODEL, n, "kit", files));
    for (int i = 0; i < 4; i++) {
      insert(store, MODEL);
    }
    insert(store, OTHER);
    store.archive(MODEL, 2, entry(AuditAction.ARCHIVE, MODEL, AuditDetails.version(2, false)));
    store.delete(
        MODEL, 3, entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(3, false)));
    store.delete(
        MODEL, 5, entry(AuditAction.DELETE_VERSION, MODEL, AuditDetails.version(5, false)));
    move(store, PROD, 0, 1, new ArrayList<>());
    move(store, PROD, 1, 4, new ArrayList<>());
    move(store, STAGING, 0, 1, new ArrayList<>());
    move(store, STAGING, 1, 0, new ArrayList<>());
    move(store, STAGING, 0, 4, new ArrayList<>());
    append(store, entry(AuditAction.LOAD_FAILED, OTHER, AuditDetails.failure(1, "boom", null)));
    List<String> models = store.models();
    List<ModelVersion> versions = store.versions(MODEL);
    List<ModelVersion> others = store.versions(OTHER);
    Map<String, AliasTarget> aliases = store.aliases(MODEL);
    List<AuditEntry> audit = store.audit(AuditQuery.all());
    assertThat(versions).extracting(ModelVersion::version).containsExactly(1L, 2L, 4L);
    assertThat(aliases)
        .containsExactly(
            Map.entry(PROD, new AliasTarget(4, 2)), Map.entry(STAGING, new AliasTarget(4, 3)));
    store.close();

    S reopened = newAnother(store);
    assertThat(reopened.models()).isEqualTo(models).containsExactly(MODEL, OTHER);
    assertThat(reopened.versions(MODEL)).isEqualTo(versions);
    assertThat(reopened.version(MODEL, 2).map(ModelVersion::status))
        .contains(VersionStatus.ARCHIVED);
    assertThat(reopened.version(MODEL, 3)).isEmpty();
    assertThat(reopened.versions(OTHER)).isEqualTo(others);
    assertThat(reopened.aliases(MODEL)).isEqualTo(aliases);
    assertThat(reopened.audit(AuditQuery.all())).isEqualTo(audit);
    assertSideFiles(reopened, 1, files);

    assertThat(insert(reopened, MODEL).version()).as("number after reopening").isEqualTo(6);
    assertThat(move(reopened, PROD, 4, 6, new ArrayList<>()))
        .as("the next move of an alias at revision 2")
        .contains(new AliasTarget(6, 3));
  }

  /** Closing a store twice is harmless. */
  @Test
  public void closingTwiceIsHarmless() {
    S store = newStore();
    insert(store, MODEL);
    store.close();
    store.close();
    assertThat(newAnother(store).versions(MODEL))
        .containsExactly(StoreSamples.version(MODEL, 1, "kit"));
  }

  // ================================================================ helpers

  private S newStore() {
    S store = Objects.requireNonNull(createStore(), "createStore() returned null");
    opened.add(store);
    return store;
  }

  private S newAnother(S store) {
    S another = Objects.requireNonNull(openAnother(store), "openAnother() returned null");
    if (another == store) {
      throw new IllegalStateException(
          "openAnother(store) returned store itself; it must open another instance");
    }
    opened.add(another);
    return another;
  }

  private ChildProcessStore requireChildProcessStore(S store) {
    Optional<ChildProcessStore> child = childProcessStore(store);
    Assumptions.assumeTrue(
        child.isPresent(),
        "the implementation gives no way for a child JVM to open the store (childProcessStore() is empty),"
            + " so sharing between processes is not checked");
    return child.get();
  }

  private ChildJvm startWorker(ChildProcessStore child, String name, String... args)
      throws java.io.IOException {
    List<String> all = new ArrayList<>();
    all.add(child.factory().getName());
    all.add(child.location());
    all.addAll(List.of(args));
    return ChildJvm.start(kitDirectory, name, StoreKitWorker.class, all);
  }

  private static NewVersion sample(String model, long n, String actor) {
    return StoreSamples.newVersion(model, n, actor, Map.of());
  }

  private static ModelVersion insert(ModelStore store, String model) {
    return store.insertVersion(model, n -> sample(model, n, "kit"));
  }

  private static ModelVersion insert(ModelStore store, String model, String actor) {
    return store.insertVersion(
        model,
        n -> StoreSamples.newVersion(model, n, actor, StoreSamples.sideFiles(n, SIDE_FILE_BYTES)));
  }

  /**
   * Inserts the next version with an entry at {@code at(time)} by {@code actor}; returns the entry.
   */
  private static AuditEntry insertAs(ModelStore store, String model, String actor, int time) {
    AuditEntry[] entry = new AuditEntry[1];
    store.insertVersion(
        model,
        n -> {
          NewVersion nv = sample(model, n, actor);
          entry[0] =
              new AuditEntry(
                  at(time), actor, AuditAction.REGISTER, model, nv.audit().details(), "");
          return new NewVersion(nv.version(), nv.files(), entry[0]);
        });
    return entry[0];
  }

  private static AuditEntry cas(
      ModelStore store, String model, String alias, long from, long to, String actor, int time) {
    AuditEntry e =
        new AuditEntry(
            at(time),
            actor,
            AuditAction.SET_ALIAS,
            model,
            AuditDetails.aliasMoved(alias, from, to, false, List.of()),
            "");
    assertThat(store.compareAndSetAlias(model, alias, from, to, e)).isPresent();
    return e;
  }

  /**
   * A compare-and-set on {@link #MODEL} with a fresh entry; when {@code record} is given and the
   * move succeeds, the entry is added to it.
   */
  private Optional<AliasTarget> move(
      ModelStore store, String alias, long from, long to, List<AuditEntry> record) {
    AuditEntry e =
        to == 0
            ? entry(AuditAction.DELETE_ALIAS, MODEL, AuditDetails.aliasDeleted(alias, from))
            : entry(
                AuditAction.SET_ALIAS,
                MODEL,
                AuditDetails.aliasMoved(alias, from, to, false, List.of()));
    Optional<AliasTarget> result = store.compareAndSetAlias(MODEL, alias, from, to, e);
    if (record != null && result.isPresent()) {
      record.add(e);
    }
    return result;
  }

  /**
   * A rollout write of {@code rolloutRecord(tag)} from {@code expected} with a fresh entry; when
   * {@code record} is given and the write succeeds, the entry is added to it.
   */
  private OptionalLong roll(
      ModelStore store,
      String model,
      String alias,
      long expected,
      String tag,
      List<AuditEntry> record) {
    AuditEntry e =
        entry(
            expected == 0 ? AuditAction.START_ROLLOUT : AuditAction.UPDATE_ROLLOUT,
            model,
            rolloutDetails(alias, expected == 0 ? "start" : "weight"));
    OptionalLong result = store.compareAndSetRollout(model, alias, expected, rolloutRecord(tag), e);
    if (record != null && result.isPresent()) {
      record.add(e);
    }
    return result;
  }

  /** A rollout record as a registry might encode it, with characters a careless store loses. */
  private static String rolloutRecord(String tag) {
    return "{\"rollout\":\"" + tag + "\",\"weight\":2500,\"note\":" + StoreSamples.AWKWARD + "}";
  }

  private static Map<String, String> rolloutDetails(String alias, String change) {
    Map<String, String> d = new TreeMap<>();
    d.put("alias", alias);
    d.put("rollout", "kit-rollout");
    d.put("from", "1");
    d.put("to", "2");
    d.put("weight", "2500");
    d.put("change", change);
    return d;
  }

  private static List<AuditEntry> concat(List<AuditEntry> first, AuditEntry last) {
    List<AuditEntry> out = new ArrayList<>(first);
    out.add(last);
    return out;
  }

  /** A change made to tell when every earlier delivery has arrived: the feed is in commit order. */
  private AuditEntry marker(ModelStore store) {
    long n = store.insertVersion(OTHER, x -> sample(OTHER, x, "marker")).version();
    return StoreSamples.registered(OTHER, n, "marker");
  }

  private static AuditEntry append(ModelStore store, AuditEntry e) {
    store.appendAudit(e);
    return e;
  }

  /** A new entry, unique in this test (its time and reason say which). */
  private AuditEntry entry(AuditAction action, String model, Map<String, String> details) {
    int i = entryCount.incrementAndGet();
    return new AuditEntry(at(100 + i), "kit", action, model, details, "change " + i);
  }

  private static Map<String, String> withExtra(
      Map<String, String> details, String key, String value) {
    Map<String, String> d = new TreeMap<>(details);
    d.put(key, value);
    return d;
  }

  private static Instant at(int i) {
    return StoreSamples.T0.plusSeconds(3600).plusMillis(i);
  }

  private static String actor(int thread) {
    return "thread-" + thread;
  }

  private Recorder subscribe(ModelStore store) {
    Recorder r = new Recorder();
    r.handle = store.subscribe(r);
    assertThat(r.handle).as("subscribe() handle").isNotNull();
    return r;
  }

  private static void assertConflict(ThrowingCallable call, String what) {
    assertThatThrownBy(call).as(what).isInstanceOf(ConflictException.class);
  }

  private static void expectFailure(ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOf(RuntimeException.class);
  }

  private static void assertCausedBy(Throwable thrown, Throwable cause) {
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      if (t == cause) {
        return;
      }
    }
    fail("expected the exception make threw (%s), or one caused by it, but got %s", cause, thrown);
  }

  private static List<Long> oneTo(long n) {
    return range(1, n);
  }

  private static List<Long> range(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().collect(Collectors.toList());
  }

  private static long number(String line) {
    return Long.parseLong(line.substring(line.indexOf(' ') + 1).trim());
  }

  /** A body run by one of several threads at once. */
  private interface ThreadBody {
    void run(int thread) throws Exception;
  }

  /**
   * Starts {@code threads} threads together, waits for all, and fails with the first exception any
   * threw.
   */
  private static void runAtOnce(int threads, ThreadBody body) throws InterruptedException {
    CountDownLatch start = new CountDownLatch(1);
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    List<Thread> started = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      Thread th =
          new Thread(
              () -> {
                try {
                  start.await();
                  body.run(thread);
                } catch (Throwable e) {
                  failures.add(e);
                }
              },
              "kit-store-" + t);
      th.setDaemon(true);
      th.start();
      started.add(th);
    }
    start.countDown();
    for (Thread th : started) {
      th.join(THREAD_TIMEOUT.toMillis());
      assertThat(th.isAlive())
          .as("%s still running after %s", th.getName(), THREAD_TIMEOUT)
          .isFalse();
    }
    if (!failures.isEmpty()) {
      AssertionError error =
          new AssertionError(
              failures.size() + " of " + threads + " threads failed; first: " + failures.get(0),
              failures.get(0));
      failures.stream().skip(1).forEach(error::addSuppressed);
      throw error;
    }
  }

  /** Records deliveries. */
  private class Recorder implements StoreListener {
    final List<AuditEntry> changes = new CopyOnWriteArrayList<>();
    final java.util.concurrent.atomic.AtomicInteger resyncs =
        new java.util.concurrent.atomic.AtomicInteger();
    AutoCloseable handle;

    @Override
    public void changed(AuditEntry change) {
      changes.add(change);
    }

    @Override
    public void resync() {
      resyncs.incrementAndGet();
    }

    /**
     * Waits until at least {@code n} changes arrived (or the timeout passed) and returns all so
     * far.
     */
    List<AuditEntry> await(int n) {
      long deadline = System.nanoTime() + feedTimeout().toNanos();
      while (changes.size() < n && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
      return List.copyOf(changes);
    }
  }
}
