package dev.mlops.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.ArtifactStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * The artifact kit must fail stores that break the contract, each on the check that covers the
 * fault, and pass correct ones. Runs kit subclasses (nested here, so that Surefire does not run
 * them on their own) through the JUnit Platform test kit.
 */
class ArtifactStoreCompatibilityKitSelfTest {

  static final Set<String> ALL_CHECKS =
      Set.of(
          "putThenMaterializeGivesExactlyTheFilesWithTheirBytes",
          "putOfAStoredDigestChangesNothing",
          "concurrentPutsOfOneDigestEndWithOneIntactArtifact",
          "anArtifactIsNeverVisibleHalfWritten",
          "materializingAnUnknownDigestThrowsIntegrityException",
          "deleteRemovesTheArtifactAndRepeatsAsANoOp",
          "anotherInstanceOnTheSameBackingSeesPutsAndDeletes",
          "aPutWhoseSourceLacksAListedFileFailsAndStoresNothing",
          "aPutStoresOnlyTheListedFiles",
          "artifactsSurviveClosingAndReopening",
          "storedListsEachArtifactWithTheTimeOfItsLastPut");

  @Test
  void theKitHasExactlyTheListedChecks() {
    Set<String> declared =
        Stream.of(ArtifactStoreCompatibilityKit.class.getDeclaredMethods())
            .filter(m -> m.isAnnotationPresent(Test.class))
            .map(java.lang.reflect.Method::getName)
            .collect(Collectors.toSet());
    assertThat(declared).containsExactlyInAnyOrderElementsOf(ALL_CHECKS);
  }

  @Test
  void theInMemoryReferencePassesEveryCheck() {
    Events tests = run(InMemoryKit.class);
    assertThat(names(tests.failed())).isEmpty();
    assertThat(names(tests.succeeded())).containsExactlyInAnyOrderElementsOf(ALL_CHECKS);
  }

  @Test
  void aStagedIdempotentDirectoryStorePassesEveryCheck() {
    Events tests = run(StagedKit.class);
    assertThat(names(tests.failed())).isEmpty();
    assertThat(names(tests.succeeded())).containsExactlyInAnyOrderElementsOf(ALL_CHECKS);
  }

  @Test
  void aPutVisibleBeforeItIsCompleteFailsTheHalfWrittenCheck() {
    List<String> failed = failedChecks(VisibleWhileWritingKit.class);
    assertThat(failed).contains("anArtifactIsNeverVisibleHalfWritten");
    // Concurrent puts fail too whenever two of them wrote into the same directory at once.
    assertThat(failed)
        .isSubsetOf(
            "anArtifactIsNeverVisibleHalfWritten",
            "concurrentPutsOfOneDigestEndWithOneIntactArtifact");
  }

  @Test
  void aPutThatReplacesAStoredDigestFailsTheIdempotenceChecks() {
    assertThat(failedChecks(ReplacingKit.class))
        .contains(
            "putOfAStoredDigestChangesNothing",
            "concurrentPutsOfOneDigestEndWithOneIntactArtifact");
  }

  @Test
  void aPutOfAStoredDigestThatKeepsItsOldTimeFailsTheStoredCheck() {
    assertThat(failedChecks(StaleTimeKit.class))
        .containsExactly("storedListsEachArtifactWithTheTimeOfItsLastPut");
  }

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

  static class InMemoryKit extends ArtifactStoreCompatibilityKit<InMemoryArtifactStore> {
    @Override
    protected InMemoryArtifactStore createStore() {
      return InMemoryArtifactStore.create(scratchDirectory());
    }

    @Override
    protected InMemoryArtifactStore openAnother(InMemoryArtifactStore store) {
      return store.openAnother();
    }
  }

  /** Kits over {@link SimpleDirectoryArtifactStore}s made one way. */
  abstract static class SimpleKit
      extends ArtifactStoreCompatibilityKit<SimpleDirectoryArtifactStore> {
    abstract boolean staged();

    abstract boolean idempotent();

    boolean touches() {
      return true;
    }

    @Override
    protected SimpleDirectoryArtifactStore createStore() {
      return new SimpleDirectoryArtifactStore(
          scratchDirectory(), staged(), idempotent(), touches());
    }

    @Override
    protected SimpleDirectoryArtifactStore openAnother(SimpleDirectoryArtifactStore store) {
      return new SimpleDirectoryArtifactStore(store.root, staged(), idempotent(), touches());
    }
  }

  static class StagedKit extends SimpleKit {
    @Override
    boolean staged() {
      return true;
    }

    @Override
    boolean idempotent() {
      return true;
    }
  }

  static class VisibleWhileWritingKit extends StagedKit {
    @Override
    boolean staged() {
      return false;
    }
  }

  static class StaleTimeKit extends StagedKit {
    @Override
    boolean touches() {
      return false;
    }
  }

  static class ReplacingKit extends StagedKit {
    @Override
    boolean idempotent() {
      return false;
    }
  }

  /**
   * Copies the listed files into {@code root/<digest>/}: through a staging directory renamed into
   * place (correct) or straight into place (visible while it is written); skipping a stored digest
   * (correct) or replacing it (not idempotent). A failed put removes what it wrote.
   */
  static final class SimpleDirectoryArtifactStore implements ArtifactStore {
    final Path root;
    private final boolean staged;
    private final boolean idempotent;
    private final boolean touches;

    SimpleDirectoryArtifactStore(Path root, boolean staged, boolean idempotent, boolean touches) {
      this.root = root;
      this.staged = staged;
      this.idempotent = idempotent;
      this.touches = touches;
    }

    @Override
    public java.util.Map<String, java.time.Instant> stored() {
      java.util.Map<String, java.time.Instant> out = new java.util.TreeMap<>();
      try (Stream<Path> dirs = Files.list(root)) {
        for (Path d : (Iterable<Path>) dirs::iterator) {
          String name = d.getFileName().toString();
          if (!name.startsWith(".") && Files.isDirectory(d)) {
            out.put(name, Files.getLastModifiedTime(d).toInstant());
          }
        }
      } catch (IOException e) {
        throw new RegistryException("cannot list " + root + ": " + e, e);
      }
      return out;
    }

    @Override
    public void put(String digest, Path directory, List<ArtifactFile> files) {
      Path target = root.resolve(digest);
      if (idempotent && Files.isDirectory(target)) {
        if (touches) {
          try {
            Files.setLastModifiedTime(
                target, java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
          } catch (IOException e) {
            throw new RegistryException("cannot touch " + target + ": " + e, e);
          }
        }
        return;
      }
      Path into = staged ? root.resolve(".stage-" + UUID.randomUUID()) : target;
      try {
        try {
          for (ArtifactFile f : files) {
            Path to = into.resolve(f.path());
            Files.createDirectories(to.getParent());
            Files.copy(directory.resolve(f.path()), to, StandardCopyOption.REPLACE_EXISTING);
          }
          Files.createDirectories(into);
        } catch (IOException e) {
          deleteRecursively(into);
          throw new RegistryException("cannot store " + digest + ": " + e, e);
        }
        if (staged) {
          if (!idempotent) {
            deleteRecursively(target); // the fault: a put of a stored digest replaces it
          }
          try {
            Files.move(into, target, StandardCopyOption.ATOMIC_MOVE);
          } catch (IOException e) {
            if (idempotent && Files.isDirectory(target)) {
              return; // another put of the same digest won
            }
            throw new RegistryException("cannot store " + digest + ": " + e, e);
          }
        }
      } finally {
        if (staged) {
          deleteRecursively(into);
        }
      }
    }

    @Override
    public boolean contains(String digest) {
      return Files.isDirectory(root.resolve(digest), LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public Path materialize(String digest, List<ArtifactFile> files) {
      if (!contains(digest)) {
        throw new IntegrityException("artifact " + digest + " is not stored");
      }
      return root.resolve(digest);
    }

    @Override
    public void delete(String digest) {
      Path trash = root.resolve(".trash-" + UUID.randomUUID());
      try {
        Files.move(root.resolve(digest), trash, StandardCopyOption.ATOMIC_MOVE);
      } catch (java.nio.file.NoSuchFileException e) {
        return;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      deleteRecursively(trash);
    }

    @Override
    public void close() {}

    private static void deleteRecursively(Path dir) {
      if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
        return;
      }
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : (Iterable<Path>) walk.sorted(Collections.reverseOrder())::iterator) {
          Files.deleteIfExists(p);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
