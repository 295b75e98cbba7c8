package dev.mlops.runtime.local;

import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.ClosedException;
import dev.mlops.api.ConflictException;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.RegistryException;
import dev.mlops.api.VersionStatus;
import dev.mlops.api.spi.AliasTarget;
import dev.mlops.api.spi.ModelStore;
import dev.mlops.api.spi.NewVersion;
import dev.mlops.api.spi.StoreListener;
import dev.mlops.api.spi.StoredRollout;
import dev.mlops.runtime.registry.Json;
import dev.mlops.runtime.registry.Records;
import dev.mlops.runtime.registry.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded {@link ModelStore}: metadata in a local directory.
 *
 * <pre>
 * root/
 *   .lock                      exclusive lock for writers (threads and processes)
 *   audit.log                  append-only, one JSON object per line, each with the hash of the one before
 *   journal.json               the change being made, while it is made
 *   staging/                   versions being written; never read
 *   models/NAME/state.json     aliases and rollout records (with revisions), archived and deleted
 *                              versions, replaced atomically
 *   models/NAME/N/version.json immutable metadata of version N
 *   models/NAME/N/...          its side files: input-example.bin, signature.json, attachments/
 * </pre>
 *
 * <p>A version is written in full under {@code staging/}, fsynced, and renamed into place in one
 * atomic step under the lock, so a crash at any point leaves either no version or a complete one;
 * mutable state is replaced with write-fsync-rename. Writers take a JVM lock and a file lock, so
 * threads and processes sharing one directory serialise their changes, and numbers are assigned
 * under that lock. A change's audit line is appended before the change becomes visible, under the
 * same lock, with the change's redo in {@code journal.json} meanwhile: a crash between the two is
 * completed, or dropped if its line was never written, by the next writer ({@link #change}). Reads
 * take no lock.
 *
 * <p>The change feed delivers the changes made through this process's instances on the directory,
 * in commit order, on the committing threads; changes by other processes are seen on the next read
 * but not delivered. Thread-safe.
 */
public final class DirectoryModelStore implements ModelStore {

  private static final Logger LOG = LoggerFactory.getLogger(DirectoryModelStore.class);

  /**
   * Listeners of every instance of this process, by root: changes through one are changes to all.
   */
  private static final Map<Path, Feed> FEEDS = new ConcurrentHashMap<>();

  private final Path root;
  private final Path modelsDir;
  private final Path stagingDir;
  private final Path auditLog;
  private final Path journal;
  private final DirectoryLock lock;
  private final Feed feed;
  private final ConcurrentHashMap<String, ModelVersion> versionCache = new ConcurrentHashMap<>();

  /** This instance's listeners, to take out of the shared feed when it closes. */
  private final List<StoreListener> mine = new CopyOnWriteArrayList<>();

  private volatile boolean closed;

  /**
   * Opens (creating if missing) the store in {@code root}.
   *
   * @throws RegistryException if the directory cannot be created or locked
   */
  public DirectoryModelStore(Path root) {
    try {
      Files.createDirectories(root);
      this.root = root.toRealPath();
      this.modelsDir = Storage.plainDirectory(this.root.resolve("models"));
      this.stagingDir = Storage.plainDirectory(this.root.resolve("staging"));
      this.auditLog = this.root.resolve("audit.log");
      this.journal = this.root.resolve("journal.json");
      Storage.requireRegularOrAbsent(auditLog);
      Storage.requireRegularOrAbsent(journal);
      this.lock = DirectoryLock.acquire(this.root);
    } catch (Storage.NotRegularFileException e) {
      throw new RegistryException(
          "cannot open registry directory "
              + root
              + ": "
              + e.getMessage()
              + "; the registry only uses files and directories it made itself, so remove it",
          e);
    } catch (IOException e) {
      throw new RegistryException(
          "cannot open registry directory " + root + ": " + e.getMessage(), e);
    }
    this.feed = FEEDS.computeIfAbsent(this.root, r -> new Feed());
    locked(
        () -> {
          recover();
          removeAbandonedEntries();
          return null;
        });
  }

  /**
   * Removes the store's own staging entries ({@code <pid>-meta-...}, {@code <pid>-deleted-...})
   * left by a crash: they exist only inside a locked change, so under the lock none is in use.
   */
  private void removeAbandonedEntries() {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(stagingDir, "*-{meta,deleted}-*")) {
      for (Path p : ds) {
        LOG.info("removing abandoned staging entry {}", p);
        Storage.deleteRecursively(p);
      }
    } catch (IOException e) {
      LOG.warn("cannot clean the staging directory {}: {}", stagingDir, e.toString());
    }
  }

  /** The store's root directory. */
  public Path root() {
    return root;
  }

  /** The directory where new versions are staged, beside the store so that a rename is atomic. */
  public Path stagingDirectory() {
    return stagingDir;
  }

  // ---------------------------------------------------------------- reads

  @Override
  public List<String> models() {
    checkOpen();
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(modelsDir)) {
      for (Path p : ds) {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          out.add(p.getFileName().toString());
        }
      }
    } catch (IOException e) {
      throw new RegistryException("cannot list models in " + modelsDir + ": " + e, e);
    }
    Collections.sort(out);
    return out;
  }

  @Override
  public List<ModelVersion> versions(String model) {
    checkOpen();
    ModelRef.checkName(model);
    State state = readState(model);
    List<ModelVersion> out = new ArrayList<>();
    for (long n : versionNumbers(model)) {
      if (!state.deleted.contains(n)) {
        ModelVersion v = readVersion(model, n);
        out.add(state.archived.contains(n) ? v.withStatus(VersionStatus.ARCHIVED) : v);
      }
    }
    return out;
  }

  @Override
  public Optional<ModelVersion> version(String model, long number) {
    checkOpen();
    ModelRef.checkName(model);
    if (number < 1
        || !Files.isRegularFile(
            versionDir(model, number).resolve("version.json"), LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    State state = readState(model);
    if (state.deleted.contains(number)) {
      return Optional.empty();
    }
    ModelVersion v = readVersion(model, number);
    return Optional.of(state.archived.contains(number) ? v.withStatus(VersionStatus.ARCHIVED) : v);
  }

  private Path versionDir(String model, long number) {
    return modelsDir.resolve(model).resolve(Long.toString(number));
  }

  private TreeSet<Long> versionNumbers(String model) {
    TreeSet<Long> out = new TreeSet<>();
    Path dir = modelsDir.resolve(model);
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        if (name.matches("[1-9][0-9]{0,17}") && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          out.add(Long.parseLong(name));
        }
      }
    } catch (IOException e) {
      throw new RegistryException("cannot list versions of '" + model + "': " + e, e);
    }
    return out;
  }

  private ModelVersion readVersion(String model, long n) {
    // Versions are immutable and numbers never reused, so the parsed metadata can be cached.
    return versionCache.computeIfAbsent(
        model + "/" + n,
        k -> {
          Path file = versionDir(model, n).resolve("version.json");
          try {
            return Records.versionFromJson(Storage.readRegularString(file));
          } catch (IOException | RuntimeException e) {
            throw new RegistryException(
                "cannot read metadata of models:/" + model + "/" + n + " from " + file + ": " + e,
                e);
          }
        });
  }

  @Override
  public Map<String, AliasTarget> aliases(String model) {
    checkOpen();
    ModelRef.checkName(model);
    return Collections.unmodifiableMap(new TreeMap<>(readState(model).aliases));
  }

  @Override
  public Map<String, StoredRollout> rollouts(String model) {
    checkOpen();
    ModelRef.checkName(model);
    return Collections.unmodifiableMap(new TreeMap<>(readState(model).rollouts));
  }

  @Override
  public Optional<byte[]> file(String model, long version, String name) {
    checkOpen();
    if (name.isEmpty()
        || name.startsWith("/")
        || name.contains("..")
        || name.equals("version.json")) {
      throw new IllegalArgumentException("not a side file name: " + name);
    }
    if (readState(model).deleted.contains(version)) {
      return Optional.empty();
    }
    try {
      return Optional.of(Storage.readRegular(versionDir(model, version).resolve(name)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new RegistryException(
          "cannot read " + name + " of models:/" + model + "/" + version + ": " + e, e);
    }
  }

  @Override
  public List<AuditEntry> audit(AuditQuery query) {
    checkOpen();
    byte[] content;
    try {
      content = Storage.readRegular(auditLog);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new RegistryException("cannot read the audit log " + auditLog + ": " + e, e);
    }
    List<AuditEntry> out = new ArrayList<>();
    for (AuditEntry entry : AuditChain.read(auditLog, content)) {
      if (query.matches(entry)) {
        out.add(entry);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- changes

  @Override
  public ModelVersion insertVersion(String model, LongFunction<NewVersion> make) {
    checkOpen();
    ModelRef.checkName(model);
    return change(
        () -> {
          long number = nextVersion(model);
          NewVersion nv = make.apply(number);
          ModelVersion v = nv.version();
          if (!v.name().equals(model) || v.version() != number) {
            throw new IllegalArgumentException(
                "insertVersion(" + model + ") was given " + v.ref() + " for number " + number);
          }
          requireModelDirectory(model);
          String stageName = ProcessHandle.current().pid() + "-meta-" + UUID.randomUUID();
          Path stage = stagingDir.resolve(stageName);
          return io(
              () -> {
                try {
                  Files.createDirectory(stage);
                  for (Map.Entry<String, byte[]> f : nv.files().entrySet()) {
                    Path target = stage.resolve(f.getKey());
                    Files.createDirectories(target.getParent());
                    Storage.writeNew(target, f.getValue());
                  }
                  Storage.writeNew(
                      stage.resolve("version.json"),
                      Records.versionToJson(v).getBytes(StandardCharsets.UTF_8));
                } catch (IOException | RuntimeException e) {
                  Storage.deleteRecursively(stage);
                  throw e;
                }
                return new Committed<>(v, nv.audit(), Redo.insert(model, number, stageName));
              });
        });
  }

  private long nextVersion(String model) {
    long max = 0;
    for (long n : versionNumbers(model)) {
      max = Math.max(max, n);
    }
    for (long n : readState(model).deleted) {
      max = Math.max(max, n);
    }
    return max + 1;
  }

  @Override
  public Optional<AliasTarget> compareAndSetAlias(
      String model, String alias, long expected, long target, AuditEntry entry) {
    checkOpen();
    ModelRef.checkName(model);
    return change(
        () -> {
          State s = readState(model);
          AliasTarget current = s.aliases.get(alias);
          long actual = current == null ? 0 : current.version();
          if (actual != expected || (current == null && target == 0)) {
            return new Committed<>(Optional.<AliasTarget>empty());
          }
          long revision =
              (current == null ? s.deletedRevisions.getOrDefault(alias, 0L) : current.revision())
                  + 1;
          AliasTarget next;
          if (target == 0) {
            s.aliases.remove(alias);
            s.deletedRevisions.put(alias, revision);
            next = new AliasTarget(0, revision);
          } else {
            requireReady(model, s, target);
            next = new AliasTarget(target, revision);
            s.aliases.put(alias, next);
            s.deletedRevisions.remove(alias);
          }
          requireModelDirectory(model);
          return new Committed<>(Optional.of(next), entry, Redo.state(model, stateText(s)));
        });
  }

  /**
   * Writes the record in the model's {@code state.json}, like an alias move: journal, audit line,
   * then the new state, under the lock.
   */
  @Override
  public OptionalLong compareAndSetRollout(
      String model, String alias, long expected, String record, AuditEntry entry) {
    checkOpen();
    ModelRef.checkName(model);
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(record, "record");
    Objects.requireNonNull(entry, "entry");
    if (expected < 0) {
      throw new IllegalArgumentException("expected must be >= 0: " + expected);
    }
    return change(
        () -> {
          // The model's directory appears with its first version, so without it there is none.
          if (!Files.isDirectory(modelsDir.resolve(model), LinkOption.NOFOLLOW_LINKS)) {
            throw new ConflictException(
                "model '"
                    + model
                    + "' has no version; a rollout can only be written for a registered model");
          }
          State s = readState(model);
          StoredRollout current = s.rollouts.get(alias);
          long actual = current == null ? 0 : current.revision();
          if (actual != expected) {
            return new Committed<>(OptionalLong.empty());
          }
          s.rollouts.put(alias, new StoredRollout(record, expected + 1));
          requireModelDirectory(model);
          return new Committed<>(
              OptionalLong.of(expected + 1), entry, Redo.state(model, stateText(s)));
        });
  }

  private void requireReady(String model, State s, long version) {
    if (s.deleted.contains(version) || !Files.isDirectory(versionDir(model, version))) {
      throw new ConflictException(
          "models:/"
              + model
              + "/"
              + version
              + " does not exist; an alias can only point at a"
              + " ready version");
    }
    if (s.archived.contains(version)) {
      throw new ConflictException(
          "models:/"
              + model
              + "/"
              + version
              + " is ARCHIVED; only a READY version can take"
              + " an alias");
    }
  }

  @Override
  public boolean archive(String model, long version, AuditEntry entry) {
    checkOpen();
    return change(
        () -> {
          State s = readState(model);
          requireExisting(model, s, version);
          refuseIfAliased(s, model, version, "archive");
          if (!s.archived.add(version)) {
            return new Committed<>(false);
          }
          requireModelDirectory(model);
          return new Committed<>(true, entry, Redo.state(model, stateText(s)));
        });
  }

  @Override
  public void delete(String model, long version, AuditEntry entry) {
    checkOpen();
    change(
        () -> {
          State s = readState(model);
          requireExisting(model, s, version);
          refuseIfAliased(s, model, version, "delete");
          s.deleted.add(version);
          s.archived.remove(version);
          requireModelDirectory(model);
          return new Committed<Void>(null, entry, Redo.delete(model, version, stateText(s)));
        });
  }

  private void requireExisting(String model, State s, long version) {
    if (s.deleted.contains(version) || !Files.isDirectory(versionDir(model, version))) {
      throw new ModelNotFoundException("model '" + model + "' has no version " + version);
    }
  }

  private static void refuseIfAliased(State s, String model, long version, String what) {
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
    checkOpen();
    locked(
        () -> {
          appendLine(entry);
          return null;
        });
  }

  @Override
  public AutoCloseable subscribe(StoreListener listener) {
    Objects.requireNonNull(listener, "listener");
    checkOpen();
    mine.add(listener);
    feed.listeners.add(listener);
    return () -> {
      mine.remove(listener);
      feed.listeners.remove(listener);
    };
  }

  // ---------------------------------------------------------------- state, locking, feed

  /** Mutable per-model state, stored in {@code state.json}. */
  private static final class State {
    final TreeMap<String, AliasTarget> aliases = new TreeMap<>();

    /**
     * The last revision of each deleted alias, so that a re-created one does not repeat a revision.
     */
    final TreeMap<String, Long> deletedRevisions = new TreeMap<>();

    final TreeSet<Long> archived = new TreeSet<>();
    final TreeSet<Long> deleted = new TreeSet<>();

    /** The last rollout record of each alias; absent from files written before rollouts. */
    final TreeMap<String, StoredRollout> rollouts = new TreeMap<>();
  }

  @SuppressWarnings("unchecked")
  private State readState(String model) {
    Path file = modelsDir.resolve(model).resolve("state.json");
    State s = new State();
    String text;
    try {
      text = Storage.readRegularString(file);
    } catch (NoSuchFileException e) {
      return s;
    } catch (IOException e) {
      throw new RegistryException("cannot read " + file + ": " + e, e);
    }
    try {
      Map<String, Object> m = Json.parseObject(text);
      ((Map<String, Object>) m.get("aliases"))
          .forEach(
              (k, v) -> {
                Map<String, Object> t = (Map<String, Object>) v;
                s.aliases.put(
                    k, new AliasTarget((Long) t.get("version"), (Long) t.get("revision")));
              });
      for (Object o : (List<Object>) m.get("archived")) {
        s.archived.add((Long) o);
      }
      for (Object o : (List<Object>) m.get("deleted")) {
        s.deleted.add((Long) o);
      }
      Object revisions = m.get("deletedAliasRevisions");
      if (revisions != null) {
        ((Map<String, Object>) revisions).forEach((k, v) -> s.deletedRevisions.put(k, (Long) v));
      }
      Object rollouts = m.get("rollouts");
      if (rollouts != null) {
        ((Map<String, Object>) rollouts)
            .forEach(
                (k, v) -> {
                  Map<String, Object> r = (Map<String, Object>) v;
                  s.rollouts.put(
                      k, new StoredRollout((String) r.get("record"), (Long) r.get("revision")));
                });
      }
    } catch (RuntimeException e) {
      throw new RegistryException(
          "registry state file " + file + " is damaged: " + e.getMessage(), e);
    }
    return s;
  }

  /** The JSON text of a model's {@code state.json}. */
  private static String stateText(State s) {
    Map<String, Object> aliases = new TreeMap<>();
    s.aliases.forEach(
        (k, t) -> {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("version", t.version());
          m.put("revision", t.revision());
          aliases.put(k, m);
        });
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("aliases", aliases);
    m.put("archived", new ArrayList<Object>(s.archived));
    m.put("deleted", new ArrayList<Object>(s.deleted));
    if (!s.deletedRevisions.isEmpty()) {
      m.put("deletedAliasRevisions", new TreeMap<String, Object>(s.deletedRevisions));
    }
    // Written only when there is one, so a model without rollouts keeps the file as it was.
    if (!s.rollouts.isEmpty()) {
      Map<String, Object> rollouts = new TreeMap<>();
      s.rollouts.forEach(
          (k, r) -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("record", r.record());
            e.put("revision", r.revision());
            rollouts.put(k, e);
          });
      m.put("rollouts", rollouts);
    }
    return Json.write(m);
  }

  /**
   * Fails unless the model's directory is absent or a plain directory of the root, and its {@code
   * state.json} absent or a regular file: checked before a change is recorded, so that applying it
   * afterwards cannot meet a planted link.
   */
  private void requireModelDirectory(String model) {
    io(
        () -> {
          Path dir = modelsDir.resolve(model);
          if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Storage.requirePlainDirectory(dir);
            Storage.requireRegularOrAbsent(dir.resolve("state.json"));
          }
          return null;
        });
  }

  /**
   * Appends the entry, chained to the line before it. A line longer than the log's reader accepts
   * ({@link Json#MAX_CHARS}) is refused, so the log never holds an entry that would make it
   * unreadable.
   */
  private void appendLine(AuditEntry e) {
    try {
      Storage.appendLine(
          auditLog,
          last -> {
            String line = Records.auditToJson(e, AuditChain.after(last));
            if (line.length() > Json.MAX_CHARS) {
              throw new UncheckedIOException(
                  new IOException(
                      "the entry is "
                          + line.length()
                          + " characters long but a reader of the log accepts at most "
                          + Json.MAX_CHARS
                          + "; shorten its reason"));
            }
            return line;
          });
    } catch (IOException ex) {
      throw new RegistryException(
          "cannot append to the audit log " + auditLog + ": " + ex.getMessage(), ex);
    } catch (UncheckedIOException ex) {
      throw new RegistryException(
          "cannot append to the audit log " + auditLog + ": " + ex.getCause().getMessage(),
          ex.getCause());
    }
  }

  /**
   * A change's result, the audit entry it commits with and what makes it visible once that entry is
   * written (both null: nothing changed).
   */
  private record Committed<T>(T result, AuditEntry entry, Redo redo) {
    /** A change that changes nothing. */
    Committed(T result) {
      this(result, null, null);
    }
  }

  /**
   * What makes a recorded change visible, applied after its audit entry is written and again, if a
   * crash came between, when the registry next opens or changes: applying it twice changes nothing.
   *
   * @param kind {@code insert} (rename the staged version {@code stage} into place as {@code
   *     version}), {@code state} (write {@code state} as the model's state file) or {@code delete}
   *     (write {@code state}, then remove the directory of {@code version})
   */
  private record Redo(String kind, String model, long version, String stage, String state) {
    static Redo insert(String model, long version, String stage) {
      return new Redo("insert", model, version, stage, null);
    }

    static Redo state(String model, String state) {
      return new Redo("state", model, 0, null, state);
    }

    static Redo delete(String model, long version, String state) {
      return new Redo("delete", model, version, null, state);
    }

    String toJson(String previous) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("previous", previous);
      m.put("kind", kind);
      m.put("model", model);
      m.put("version", version);
      m.put("stage", stage);
      m.put("state", state);
      return Json.write(m);
    }

    /**
     * A journal as {@link #toJson} wrote it; its names are checked, since anyone could plant one.
     */
    static Redo fromJson(Map<String, Object> m) {
      Redo r =
          new Redo(
              (String) m.get("kind"),
              (String) m.get("model"),
              (Long) m.get("version"),
              (String) m.get("stage"),
              (String) m.get("state"));
      ModelRef.checkName(r.model);
      if (!List.of("insert", "state", "delete").contains(r.kind)
          || (r.stage != null && !r.stage.matches("[0-9]+-meta-[0-9a-f-]{36}"))
          || (r.kind.equals("insert") ? r.stage == null : r.state == null)
          || (!r.kind.equals("state") && r.version < 1)) {
        throw new IllegalArgumentException("not a change this registry records: " + m);
      }
      return r;
    }
  }

  /**
   * Runs a change under the lock. The change computes what it will do without making any of it
   * visible; its redo is then written to {@code journal.json}, its audit entry appended, and only
   * then is the change applied and the journal removed. So an entry is durable before its change is
   * visible, a failed append leaves nothing changed (a {@link RegistryException} says so), and a
   * crash in between is completed, or dropped when its entry was never written, by whoever takes
   * the lock next ({@link #recover}). The audit log is checked first, so a log that is not a
   * regular file stops the change before it starts. Committed entries are queued for the feed in
   * commit order and delivered once the lock is released.
   */
  private <T> T change(Supplier<Committed<T>> action) {
    Committed<T> c =
        locked(
            () -> {
              io(
                  () -> {
                    Storage.requireRegularOrAbsent(auditLog);
                    return null;
                  });
              recover();
              Committed<T> done = action.get();
              if (done.entry() == null) {
                return done;
              }
              io(
                  () -> {
                    String redo = done.redo().toJson(AuditChain.after(Storage.lastLine(auditLog)));
                    if (redo.length() > Json.MAX_CHARS) {
                      // recover() could not read it back: refuse before anything is written.
                      throw new RegistryException(
                          "nothing was changed: the change's journal would be "
                              + redo.length()
                              + " characters long but the registry reads at most "
                              + Json.MAX_CHARS
                              + "; store less (shorter rollout records)");
                    }
                    // Whole or absent: a writer killed while writing it leaves no torn journal,
                    // only its temporary file, which the next recover() removes.
                    Storage.writeAtomically(journal, redo);
                    return null;
                  });
              try {
                appendLine(done.entry());
              } catch (RegistryException e) {
                io(
                    () -> {
                      discard(done.redo());
                      Files.delete(journal);
                      return null;
                    });
                throw new RegistryException(
                    "nothing was changed because the change's audit entry could not be written: "
                        + e.getMessage(),
                    e);
              }
              try {
                apply(done.redo());
                Files.delete(journal);
                Storage.fsyncDirectory(root);
              } catch (IOException | RuntimeException e) {
                throw new RegistryException(
                    "the change is in the audit log but could not be applied yet ("
                        + e
                        + "); the next change or opening of the registry at "
                        + root
                        + " applies it",
                    e);
              }
              feed.pending.add(done.entry());
              return done;
            });
    feed.deliver();
    return c.result();
  }

  /**
   * Under the lock: completes the change a crashed writer left in {@code journal.json} if its audit
   * entry was written (the log's last line follows the one the journal names), and drops it if not.
   */
  private void recover() {
    io(
        () -> {
          removeJournalLeftovers();
          byte[] bytes;
          try {
            bytes = Storage.readRegular(journal);
          } catch (NoSuchFileException e) {
            return null;
          }
          Map<String, Object> m;
          Redo redo;
          try {
            m = Json.parseObject(new String(bytes, StandardCharsets.UTF_8));
            redo = Redo.fromJson(m);
          } catch (RuntimeException e) {
            throw new RegistryException(
                "the change journal "
                    + journal
                    + " is damaged ("
                    + e.getMessage()
                    + "); the registry writes it only inside a change, so remove it",
                e);
          }
          String previous = (String) m.get("previous");
          byte[] last = Storage.lastLine(auditLog);
          boolean written =
              last != null
                  && previous.equals(
                      Records.auditLineFromJson(new String(last, StandardCharsets.UTF_8))
                          .previous());
          if (written) {
            LOG.info("completing a change to '{}' recorded at {} before a crash", redo.model, root);
            apply(redo);
          } else {
            if (!previous.equals(AuditChain.after(last))) {
              LOG.warn(
                  "dropping the unfinished change to '{}' at {}: the audit log moved on without it",
                  redo.model,
                  root);
            }
            discard(redo);
          }
          Files.delete(journal);
          Storage.fsyncDirectory(root);
          return null;
        });
  }

  /**
   * Deletes the temporary files of journals whose writer was killed before renaming them: their
   * change wrote nothing else (its audit entry comes after the journal), so nothing is lost.
   */
  private void removeJournalLeftovers() throws IOException {
    String prefix = "." + journal.getFileName() + ".tmp-";
    try (java.util.stream.Stream<Path> entries = Files.list(root)) {
      for (Path p : (Iterable<Path>) entries::iterator) {
        if (p.getFileName().toString().startsWith(prefix)) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Makes a recorded change visible; applying it again changes nothing. */
  private void apply(Redo r) throws IOException {
    Path modelDir = modelsDir.resolve(r.model);
    switch (r.kind) {
      case "insert" -> {
        Path target = versionDir(r.model, r.version);
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
          // The model's directory appears with its first complete version, never before.
          Storage.plainDirectory(modelDir);
          Files.move(stagingDir.resolve(r.stage), target, StandardCopyOption.ATOMIC_MOVE);
          Storage.fsyncDirectory(modelDir);
        }
      }
      case "state" -> writeStateText(r.model, r.state);
      case "delete" -> {
        // The state first: a crash before the files are gone leaves an invisible directory that
        // the next application of this redo removes, never a half-deleted version.
        writeStateText(r.model, r.state);
        Path dir = versionDir(r.model, r.version);
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
          Path trash =
              stagingDir.resolve(ProcessHandle.current().pid() + "-deleted-" + UUID.randomUUID());
          Files.move(dir, trash, StandardCopyOption.ATOMIC_MOVE);
          try {
            Storage.deleteRecursively(trash);
          } catch (IOException e) {
            LOG.warn("cannot remove {}; the next open removes it: {}", trash, e.toString());
          }
        }
      }
      default -> throw new IllegalStateException("unknown change " + r.kind);
    }
  }

  /** Drops what a change staged but never made visible. */
  private void discard(Redo r) throws IOException {
    if (r.stage != null) {
      Storage.deleteRecursively(stagingDir.resolve(r.stage));
    }
  }

  private void writeStateText(String model, String text) throws IOException {
    Path dir = modelsDir.resolve(model);
    Storage.requirePlainDirectory(dir);
    Storage.writeAtomically(dir.resolve("state.json"), text);
  }

  private <T> T locked(Supplier<T> action) {
    try {
      return lock.call(action::get);
    } catch (IOException e) {
      if (closed) {
        throw new ClosedException(
            "the registry at " + root + " was closed during the change; nothing was changed");
      }
      throw new RegistryException("cannot lock the registry at " + root + ": " + e, e);
    } catch (UncheckedIOException e) {
      throw new RegistryException(
          "registry change at " + root + " failed: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /**
   * Committed changes of one directory, delivered in commit order by whichever committer gets there
   * first.
   */
  private static final class Feed {
    final List<StoreListener> listeners = new CopyOnWriteArrayList<>();
    final ConcurrentLinkedQueue<AuditEntry> pending = new ConcurrentLinkedQueue<>();
    final ReentrantLock delivering = new ReentrantLock();

    void deliver() {
      while (!pending.isEmpty() && delivering.tryLock()) {
        try {
          for (AuditEntry e; (e = pending.poll()) != null; ) {
            for (StoreListener l : listeners) {
              try {
                l.changed(e);
              } catch (RuntimeException ex) {
                LOG.warn("store listener {} failed on {}: {}", l, e, ex.toString(), ex);
              }
            }
          }
        } finally {
          delivering.unlock();
        }
      }
    }
  }

  private interface IoAction<T> {
    T run() throws IOException;
  }

  private static <T> T io(IoAction<T> action) {
    try {
      return action.run();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException("the registry at " + root + " is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    feed.listeners.removeAll(mine);
    mine.clear();
    try {
      lock.release();
    } catch (IOException e) {
      LOG.debug("closing the lock file failed", e);
    }
  }

  @Override
  public String toString() {
    return root.toString();
  }
}
