package dev.mlops.runtime.registry;

import dev.mlops.api.RegistryException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Directories where the registry works on files before anyone else may see them: new versions being
 * copied and checked, and the private copies a load is made from. Each entry holds a lock for as
 * long as it is in use; opening removes the entries whose lock it can take (their owner is gone, in
 * whatever process or container it ran), never by process id. Internal to the runtime. Thread-safe.
 */
public final class Staging {

  private static final Logger LOG = LoggerFactory.getLogger(Staging.class);
  private static final String LOCK = ".in-use";

  private final Path dir;

  /** One entry in use: its directory, and the lock that says so. */
  public static final class Entry implements AutoCloseable {
    final Path path;
    private final FileChannel channel;
    private final FileLock lock;

    private Entry(Path path, FileChannel channel, FileLock lock) {
      this.path = path;
      this.channel = channel;
      this.lock = lock;
    }

    /** The entry's directory; it holds the lock file, so put what is staged in a subdirectory. */
    public Path path() {
      return path;
    }

    /** Deletes the entry; a failure is logged, never thrown. */
    @Override
    public void close() {
      try {
        lock.release();
        channel.close();
      } catch (IOException e) {
        LOG.debug("cannot release the lock of {}", path, e);
      }
      try {
        Storage.deleteRecursively(path);
      } catch (IOException e) {
        LOG.warn("cannot remove staging directory {}: {}", path, e.toString());
      }
    }
  }

  /**
   * Opens a staging directory, creating it readable by this user only; a path that is a link, or
   * not a directory, is refused.
   */
  public Staging(Path dir) {
    try {
      if (Files.isSymbolicLink(dir)) {
        throw new RegistryException(
            "the staging directory " + dir + " is a symbolic link; expected a plain directory");
      }
      if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(dir);
        ownerOnly(dir);
      }
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw new RegistryException("the staging path " + dir + " is not a directory");
      }
      this.dir = dir.toRealPath();
    } catch (IOException e) {
      throw new RegistryException(
          "cannot create the staging directory " + dir + ": " + e.getMessage(), e);
    }
    removeAbandoned();
  }

  /**
   * The default private directory of this user's registries: {@code mlops-<user>} in the system's
   * temporary directory, readable by this user only.
   */
  static Path privateRoot() {
    String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
    Path root = Path.of(System.getProperty("java.io.tmpdir"), "mlops-" + user);
    try {
      if (Files.isSymbolicLink(root)) {
        throw new RegistryException(
            "the private directory " + root + " is a symbolic link; remove it or set staging(...)");
      }
      if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
        try {
          Files.createDirectory(root);
        } catch (java.nio.file.FileAlreadyExistsException raced) {
          // another registry of this user made it first
        }
        ownerOnly(root);
      }
      Set<PosixFilePermission> perms =
          Files.getPosixFilePermissions(root, LinkOption.NOFOLLOW_LINKS);
      if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)
          || !Files.getOwner(root, LinkOption.NOFOLLOW_LINKS)
              .getName()
              .equals(System.getProperty("user.name"))
          || perms.stream()
              .anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
        throw new RegistryException(
            "the private directory "
                + root
                + " is not a directory that only "
                + System.getProperty("user.name")
                + " can use (permissions "
                + PosixFilePermissions.toString(perms)
                + "); remove it or set staging(...)");
      }
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: the directory is as private as the platform makes it
    } catch (IOException e) {
      throw new RegistryException(
          "cannot create the private directory " + root + ": " + e.getMessage(), e);
    }
    return root;
  }

  private static void ownerOnly(Path p) throws IOException {
    try {
      Files.setPosixFilePermissions(
          p,
          EnumSet.of(
              PosixFilePermission.OWNER_READ,
              PosixFilePermission.OWNER_WRITE,
              PosixFilePermission.OWNER_EXECUTE));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system
    }
  }

  /** The directory itself. */
  public Path directory() {
    return dir;
  }

  /** A new, empty entry, locked until it is closed. */
  public Entry create() {
    Path entry = dir.resolve(UUID.randomUUID().toString());
    try {
      Files.createDirectory(entry);
      FileChannel ch =
          FileChannel.open(
              entry.resolve(LOCK),
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.WRITE,
              LinkOption.NOFOLLOW_LINKS);
      return new Entry(entry, ch, ch.lock());
    } catch (IOException e) {
      throw new RegistryException(
          "cannot create a staging entry in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Removes entries whose lock can be taken: nobody uses them any more. */
  private void removeAbandoned() {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        if (!p.getFileName().toString().matches("[0-9a-f-]{36}")
            || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        if (abandoned(p)) {
          LOG.info("removing abandoned staging entry {}", p);
          Storage.deleteRecursively(p);
        }
      }
    } catch (IOException e) {
      LOG.warn("cannot clean the staging directory {}: {}", dir, e.toString());
    }
  }

  private static boolean abandoned(Path entry) {
    Path lockFile = entry.resolve(LOCK);
    if (Files.isSymbolicLink(lockFile)) {
      return true;
    }
    if (!Files.exists(lockFile, LinkOption.NOFOLLOW_LINKS)) {
      // Made but not yet locked, or left by a crash between the two: old enough to be the latter.
      try {
        return Files.getLastModifiedTime(entry, LinkOption.NOFOLLOW_LINKS).toMillis()
            < System.currentTimeMillis() - 60_000;
      } catch (IOException e) {
        return false;
      }
    }
    try (FileChannel ch =
        FileChannel.open(lockFile, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
      FileLock lock = ch.tryLock();
      if (lock == null) {
        return false;
      }
      lock.release();
      return true;
    } catch (OverlappingFileLockException e) {
      return false; // held by this JVM
    } catch (IOException e) {
      return false;
    }
  }
}
