package dev.mlops.runtime.local;

import dev.mlops.runtime.registry.Storage;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The writers' lock of one registry directory, shared by every registry instance of this process on
 * that directory.
 *
 * <p>A POSIX file lock belongs to the process, and closing any channel on the file drops all of the
 * process's locks on it; so the process keeps one channel per directory, closed when its last user
 * closes, and its threads queue on a JVM lock before taking the file lock.
 */
final class DirectoryLock {

  private static final Map<Path, DirectoryLock> OPEN = new HashMap<>();

  private final Path root;
  private final ReentrantLock threads = new ReentrantLock();
  private final FileChannel channel;
  private int users;

  private DirectoryLock(Path root, FileChannel channel) {
    this.root = root;
    this.channel = channel;
  }

  /** The lock of {@code root} (a real path), opened or shared. */
  static DirectoryLock acquire(Path root) throws IOException {
    synchronized (OPEN) {
      DirectoryLock lock = OPEN.get(root);
      if (lock == null) {
        // Never through a link: a planted (even dangling) link at .lock fails the open here.
        Path file = root.resolve(".lock");
        Storage.requireRegularOrAbsent(file);
        FileChannel ch =
            FileChannel.open(
                file,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
        lock = new DirectoryLock(root, ch);
        OPEN.put(root, lock);
      }
      lock.users++;
      return lock;
    }
  }

  /** Runs {@code action} holding the JVM lock and the file lock. */
  <T> T call(IoSupplier<T> action) throws IOException {
    threads.lock();
    try {
      FileLock fileLock = channel.lock();
      try {
        return action.get();
      } finally {
        fileLock.release();
      }
    } finally {
      threads.unlock();
    }
  }

  /** Drops one user; the last one closes the channel. */
  void release() throws IOException {
    synchronized (OPEN) {
      if (--users == 0) {
        OPEN.remove(root);
        channel.close();
      }
    }
  }

  /** A supplier that may throw an I/O error. */
  interface IoSupplier<T> {
    T get() throws IOException;
  }
}
