package dev.mlops.test;

import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.ClosedException;
import dev.mlops.api.ConflictException;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.VersionStatus;
import dev.mlops.api.spi.AliasTarget;
import dev.mlops.api.spi.ModelStore;
import dev.mlops.api.spi.NewVersion;
import dev.mlops.api.spi.StoreListener;
import dev.mlops.api.spi.StoredRollout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ModelStore} in memory: the reference implementation of the store contract, which passes
 * {@link ModelStoreCompatibilityKit}, and a test double for applications that want a {@code
 * GovernedRegistry} without a directory or a database.
 *
 * <pre>{@code
 * ModelRegistry registry = GovernedRegistry.builder(InMemoryModelStore.create(), artifacts).build();
 * }</pre>
 *
 * <p>What it guarantees: every change and its audit entry are committed together under one lock, so
 * readers see a change entirely or not at all; numbers are 1, 2, 3 ... per model and never reused,
 * also after a deletion; aliases move only by compare-and-set and every move bumps the revision; an
 * alias points only at a ready version; rollout records move only by compare-and-set on their
 * revision, one per alias, and only for a model that has a version; the change feed delivers each
 * committed change once, in commit order, after it is visible to readers, on a committing thread
 * (entries of {@link #appendAudit}, which change nothing, are not delivered). Several instances can
 * share one backing ({@link #openAnother()}), as processes share a database: they share numbering,
 * state, audit log and change feed. Nothing survives the last reference to the backing; there is no
 * process sharing.
 *
 * <p>Thread-safe: one lock per backing orders every change and read, and {@code insertVersion}'s
 * {@code make} runs under it, so a slow {@code make} holds up the backing's other callers. Closing
 * an instance stops its listeners and makes its methods throw {@link ClosedException}; the backing
 * and its other instances are unaffected. {@code close()} is idempotent.
 */
public final class InMemoryModelStore implements ModelStore {

  private static final Logger LOG = LoggerFactory.getLogger(InMemoryModelStore.class);

  private final Backing backing;
  private final Rules rules;
  private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  InMemoryModelStore(Backing backing, Rules rules) {
    this.backing = Objects.requireNonNull(backing, "backing");
    this.rules = Objects.requireNonNull(rules, "rules");
  }

  /** A store on a new, empty backing. */
  public static InMemoryModelStore create() {
    return new InMemoryModelStore(new Backing(), Rules.CORRECT);
  }

  /**
   * Another instance on this store's backing: the same models, numbering, audit log and change
   * feed, as a second process's connection to one database would have. Works after this instance
   * was closed, to reopen its state.
   */
  public InMemoryModelStore openAnother() {
    return new InMemoryModelStore(backing, rules);
  }

  /**
   * The numbering and reference rules, in one place so that the kit's self-test can break them one
   * at a time; always {@link #CORRECT} outside it.
   */
  interface Rules {
    Rules CORRECT = new Rules() {};

    /** The number of the next version, given the highest ever issued and those that exist now. */
    default long nextNumber(long highestIssued, NavigableSet<Long> existing) {
      return highestIssued + 1;
    }

    /**
     * Whether an insert whose make fails keeps the number it was given, as a database sequence
     * would.
     */
    default boolean failedInsertsUseUpTheirNumber() {
      return false;
    }

    /** Whether an alias move to a version that does not exist (or was deleted) is refused. */
    default boolean refusesMissingTargets() {
      return true;
    }
  }

  /** The shared state of every instance on one backing. */
  static final class Backing {
    final ReentrantLock lock = new ReentrantLock();
    final TreeMap<String, ModelState> models = new TreeMap<>();
    final List<AuditEntry> audit = new ArrayList<>();
    final Feed feed = new Feed();
    long committed;
  }

  /** One model: its versions with their side files, archived numbers, aliases. */
  private static final class ModelState {
    long highestIssued;
    final TreeMap<Long, Stored> versions = new TreeMap<>();
    final TreeSet<Long> archived = new TreeSet<>();
    final TreeMap<String, AliasTarget> aliases = new TreeMap<>();

    /** The last revision of each deleted alias: a re-created alias continues from it. */
    final TreeMap<String, Long> deletedRevisions = new TreeMap<>();

    /** The last rollout record written for each alias, with its revision. */
    final TreeMap<String, StoredRollout> rollouts = new TreeMap<>();
  }

  private record Stored(ModelVersion version, Map<String, byte[]> files) {}

  // ---------------------------------------------------------------- reads

  @Override
  public List<String> models() {
    return read(() -> List.copyOf(backing.models.keySet()));
  }

  @Override
  public List<ModelVersion> versions(String model) {
    ModelRef.checkName(model);
    return read(
        () -> {
          ModelState s = backing.models.get(model);
          if (s == null) {
            return List.of();
          }
          List<ModelVersion> out = new ArrayList<>();
          for (Long n : s.versions.keySet()) {
            out.add(withStatus(s, n));
          }
          return Collections.unmodifiableList(out);
        });
  }

  @Override
  public Optional<ModelVersion> version(String model, long number) {
    ModelRef.checkName(model);
    return read(
        () -> {
          ModelState s = backing.models.get(model);
          return s == null || !s.versions.containsKey(number)
              ? Optional.empty()
              : Optional.of(withStatus(s, number));
        });
  }

  private static ModelVersion withStatus(ModelState s, long n) {
    ModelVersion v = s.versions.get(n).version();
    VersionStatus status = s.archived.contains(n) ? VersionStatus.ARCHIVED : VersionStatus.READY;
    return v.status() == status ? v : v.withStatus(status);
  }

  @Override
  public Map<String, AliasTarget> aliases(String model) {
    ModelRef.checkName(model);
    return read(
        () -> {
          ModelState s = backing.models.get(model);
          return s == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(s.aliases));
        });
  }

  @Override
  public Map<String, StoredRollout> rollouts(String model) {
    ModelRef.checkName(model);
    return read(
        () -> {
          ModelState s = backing.models.get(model);
          return s == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(s.rollouts));
        });
  }

  @Override
  public Optional<byte[]> file(String model, long version, String name) {
    Objects.requireNonNull(name, "name");
    return read(
        () -> {
          ModelState s = backing.models.get(model);
          Stored stored = s == null ? null : s.versions.get(version);
          byte[] bytes = stored == null ? null : stored.files().get(name);
          return bytes == null ? Optional.empty() : Optional.of(bytes.clone());
        });
  }

  @Override
  public List<AuditEntry> audit(AuditQuery query) {
    Objects.requireNonNull(query, "query");
    return read(
        () -> {
          List<AuditEntry> out = new ArrayList<>();
          for (AuditEntry e : backing.audit) {
            if (query.matches(e)) {
              out.add(e);
            }
          }
          return Collections.unmodifiableList(out);
        });
  }

  // ---------------------------------------------------------------- changes

  @Override
  public ModelVersion insertVersion(String model, LongFunction<NewVersion> make) {
    ModelRef.checkName(model);
    Objects.requireNonNull(make, "make");
    return change(
        () -> {
          ModelState existing = backing.models.get(model);
          long highest = existing == null ? 0 : existing.highestIssued;
          NavigableSet<Long> numbers =
              existing == null ? new TreeSet<>() : existing.versions.navigableKeySet();
          long number = rules.nextNumber(highest, Collections.unmodifiableNavigableSet(numbers));
          // Nothing is touched before make returns: a make that throws leaves no trace.
          NewVersion nv;
          try {
            nv = Objects.requireNonNull(make.apply(number), "make returned null");
            ModelVersion v = nv.version();
            if (!v.name().equals(model) || v.version() != number) {
              throw new IllegalArgumentException(
                  "insertVersion("
                      + model
                      + ") expected a record of models:/"
                      + model
                      + "/"
                      + number
                      + " but was given "
                      + v.ref());
            }
          } catch (RuntimeException e) {
            if (rules.failedInsertsUseUpTheirNumber() && existing != null) {
              existing.highestIssued = number;
            }
            throw e;
          }
          ModelVersion v = nv.version();
          Map<String, byte[]> files = new TreeMap<>();
          nv.files().forEach((name, bytes) -> files.put(name, bytes.clone()));
          ModelState s = backing.models.computeIfAbsent(model, m -> new ModelState());
          s.versions.put(number, new Stored(v, Collections.unmodifiableMap(files)));
          s.highestIssued = Math.max(s.highestIssued, number);
          return new Committed<>(v, nv.audit());
        });
  }

  @Override
  public Optional<AliasTarget> compareAndSetAlias(
      String model, String alias, long expected, long target, AuditEntry entry) {
    ModelRef.checkName(model);
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(entry, "entry");
    if (expected < 0 || target < 0) {
      throw new IllegalArgumentException(
          "expected and target must be >= 0: " + expected + ", " + target);
    }
    return change(
        () -> {
          ModelState s = backing.models.get(model);
          AliasTarget current = s == null ? null : s.aliases.get(alias);
          long actual = current == null ? 0 : current.version();
          if (actual != expected || (current == null && target == 0)) {
            return new Committed<>(Optional.<AliasTarget>empty(), null);
          }
          if (target != 0) {
            requireReady(model, s, target);
          }
          long revision =
              (current == null ? s.deletedRevisions.getOrDefault(alias, 0L) : current.revision())
                  + 1;
          AliasTarget next = new AliasTarget(target, revision);
          if (target == 0) {
            s.aliases.remove(alias);
            s.deletedRevisions.put(alias, revision);
          } else {
            s.aliases.put(alias, next);
            s.deletedRevisions.remove(alias);
          }
          return new Committed<>(Optional.of(next), entry);
        });
  }

  @Override
  public OptionalLong compareAndSetRollout(
      String model, String alias, long expected, String record, AuditEntry entry) {
    ModelRef.checkName(model);
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(record, "record");
    Objects.requireNonNull(entry, "entry");
    if (expected < 0) {
      throw new IllegalArgumentException("expected must be >= 0: " + expected);
    }
    return change(
        () -> {
          ModelState s = backing.models.get(model);
          if (s == null) {
            throw new ConflictException(
                "model '"
                    + model
                    + "' has no version; a rollout can only be written for a registered model");
          }
          StoredRollout current = s.rollouts.get(alias);
          long actual = current == null ? 0 : current.revision();
          if (actual != expected) {
            return new Committed<>(OptionalLong.empty(), null);
          }
          s.rollouts.put(alias, new StoredRollout(record, expected + 1));
          return new Committed<>(OptionalLong.of(expected + 1), entry);
        });
  }

  private void requireReady(String model, ModelState s, long version) {
    if (s == null || !s.versions.containsKey(version)) {
      if (rules.refusesMissingTargets()) {
        throw new ConflictException(
            "models:/"
                + model
                + "/"
                + version
                + " does not exist; an alias can only point at a ready version");
      }
      return;
    }
    if (s.archived.contains(version)) {
      throw new ConflictException(
          "models:/"
              + model
              + "/"
              + version
              + " is ARCHIVED; only a READY version can take an alias");
    }
  }

  @Override
  public boolean archive(String model, long version, AuditEntry entry) {
    Objects.requireNonNull(entry, "entry");
    return change(
        () -> {
          ModelState s = requireExisting(model, version);
          refuseIfAliased(s, model, version, "archive");
          if (!s.archived.add(version)) {
            return new Committed<>(false, null);
          }
          return new Committed<>(true, entry);
        });
  }

  @Override
  public void delete(String model, long version, AuditEntry entry) {
    Objects.requireNonNull(entry, "entry");
    change(
        () -> {
          ModelState s = requireExisting(model, version);
          refuseIfAliased(s, model, version, "delete");
          s.versions.remove(version);
          s.archived.remove(version);
          return new Committed<>(null, entry);
        });
  }

  private ModelState requireExisting(String model, long version) {
    ModelState s = backing.models.get(model);
    if (s == null || !s.versions.containsKey(version)) {
      throw new ModelNotFoundException("model '" + model + "' has no version " + version);
    }
    return s;
  }

  private static void refuseIfAliased(ModelState s, String model, long version, String what) {
    List<String> pointing = new ArrayList<>();
    s.aliases.forEach(
        (a, t) -> {
          if (t.version() == version) {
            pointing.add(a);
          }
        });
    if (!pointing.isEmpty()) {
      throw new ConflictException(
          "cannot "
              + what
              + " models:/"
              + model
              + "/"
              + version
              + ": aliases "
              + pointing
              + " point at it; move or delete them first");
    }
  }

  @Override
  public void appendAudit(AuditEntry entry) {
    Objects.requireNonNull(entry, "entry");
    read(() -> backing.audit.add(entry));
  }

  @Override
  public AutoCloseable subscribe(StoreListener listener) {
    Objects.requireNonNull(listener, "listener");
    Subscription sub =
        read(
            () -> {
              Subscription s = new Subscription(listener, backing.committed);
              backing.feed.subscriptions.add(s);
              subscriptions.add(s);
              return s;
            });
    return () -> {
      backing.feed.subscriptions.remove(sub);
      subscriptions.remove(sub);
    };
  }

  // ---------------------------------------------------------------- locking and the feed

  /** A change's result and the entry it commits with (null: nothing changed). */
  private record Committed<T>(T result, AuditEntry entry) {}

  private interface Action<T> {
    T run();
  }

  private <T> T read(Action<T> action) {
    checkOpen();
    backing.lock.lock();
    try {
      return action.run();
    } finally {
      backing.lock.unlock();
    }
  }

  /** Runs a change under the lock, records its entry there in commit order, then delivers. */
  private <T> T change(Action<Committed<T>> action) {
    checkOpen();
    Committed<T> done;
    backing.lock.lock();
    try {
      done = action.run();
      if (done.entry() != null) {
        backing.audit.add(done.entry());
        backing.committed++;
        backing.feed.pending.add(new Pending(backing.committed, done.entry()));
      }
    } finally {
      backing.lock.unlock();
    }
    backing.feed.deliver();
    return done.result();
  }

  private record Pending(long sequence, AuditEntry entry) {}

  /** A listener and the last change committed before it subscribed. */
  private record Subscription(StoreListener listener, long after) {}

  /**
   * Committed changes, delivered in commit order by whichever committing thread gets there first.
   */
  private static final class Feed {
    final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
    final ReentrantLock delivering = new ReentrantLock();

    void deliver() {
      if (delivering.isHeldByCurrentThread()) {
        return; // a listener changed the store: the loop below it delivers that change in its turn
      }
      while (!pending.isEmpty() && delivering.tryLock()) {
        try {
          for (Pending p; (p = pending.poll()) != null; ) {
            for (Subscription s : subscriptions) {
              if (p.sequence() > s.after()) {
                try {
                  s.listener().changed(p.entry());
                } catch (RuntimeException e) {
                  LOG.warn(
                      "store listener {} failed on {}: {}",
                      s.listener(),
                      p.entry(),
                      e.toString(),
                      e);
                }
              }
            }
          }
        } finally {
          delivering.unlock();
        }
      }
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException(
          "this InMemoryModelStore is closed; open another on its backing with openAnother()");
    }
  }

  /**
   * For tests: behaves as a store that lost its connection to shared state and has it back, which
   * this one never does: asks each of this instance's listeners to resync, once.
   */
  public void reconnect() {
    for (Subscription sub : subscriptions) {
      sub.listener().resync();
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    backing.feed.subscriptions.removeAll(subscriptions);
    subscriptions.clear();
  }

  @Override
  public String toString() {
    return "InMemoryModelStore@" + Integer.toHexString(System.identityHashCode(backing));
  }
}
