package dev.mlops.runtime.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry's directory lock is shared by the instances of one process, so closing one of them
 * must not drop the lock another holds (closing any channel on a file drops all of the process's
 * POSIX locks on it).
 */
class DirectoryLockTest {

  @TempDir Path root;

  /** Child JVM: tries to take the lock once and prints "free" or "busy". */
  public static void main(String[] args) throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            Path.of(args[0]).resolve(".lock"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE)) {
      FileLock lock = ch.tryLock();
      System.out.println(lock == null ? "busy" : "free");
      if (lock != null) {
        lock.release();
      }
    }
  }

  private String otherProcessSees() throws Exception {
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                DirectoryLockTest.class.getName(),
                root.toString())
            .redirectErrorStream(true)
            .start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("child JVM did not finish");
    }
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
  }

  @Test
  void closingOneUserKeepsTheLockThatAnotherHolds() throws Exception {
    Path real = root.toRealPath();
    DirectoryLock first = DirectoryLock.acquire(real);
    DirectoryLock second = DirectoryLock.acquire(real);
    assertThat(second).isSameAs(first);
    String seen =
        second.call(
            () -> {
              first.release(); // another instance closes while this one holds the lock
              try {
                return otherProcessSees();
              } catch (Exception e) {
                throw new IOException(e);
              }
            });
    assertThat(seen).isEqualTo("busy");
    second.release();
    // Control: with no holder the other process gets the lock, so "busy" above was real.
    assertThat(otherProcessSees()).isEqualTo("free");
  }
}
