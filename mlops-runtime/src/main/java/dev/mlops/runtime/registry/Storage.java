package dev.mlops.runtime.registry;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Durable file operations of the registry and the directory stores: write to a temporary file,
 * fsync, rename, fsync the directory; SHA-256 while copying. Internal to the runtime. Stateless.
 */
public final class Storage {

  private Storage() {}

  public static void writeAtomically(Path target, String content) throws IOException {
    Path tmp =
        target.resolveSibling("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    fsyncDirectory(target.getParent());
  }

  /**
   * Appends one line. Callers hold the registry's write lock, so no other append runs meanwhile. A
   * crash during an earlier append can leave a line without its newline; that fragment is cut off
   * first, or the new line would join it and turn a torn last line into a damaged middle one.
   */
  public static void appendLine(Path file, String line) throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long end = endOfLastLine(ch);
      if (end < ch.size()) {
        ch.truncate(end);
      }
      java.nio.ByteBuffer buf =
          java.nio.ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
      while (buf.hasRemaining()) {
        end += ch.write(buf, end);
      }
      ch.force(true);
    }
  }

  /** The offset just after the last newline of the file, 0 if it has none. */
  private static long endOfLastLine(FileChannel ch) throws IOException {
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8192);
    long pos = ch.size();
    while (pos > 0) {
      int n = (int) Math.min(buf.capacity(), pos);
      buf.clear().limit(n);
      while (buf.hasRemaining()) {
        if (ch.read(buf, pos - n + buf.position()) < 0) {
          throw new IOException("file shrank while reading its end");
        }
      }
      for (int i = n - 1; i >= 0; i--) {
        if (buf.get(i) == '\n') {
          return pos - n + i + 1;
        }
      }
      pos -= n;
    }
    return 0;
  }

  public static void fsync(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some file systems cannot open a directory for fsync; the rename is still atomic there.
    }
  }

  public static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
            try {
              Files.delete(d);
            } catch (NoSuchFileException ignored) {
              // already gone
            }
            return FileVisitResult.CONTINUE;
          }
        });
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  public static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  /** SHA-256 of a file's content, hex. */
  public static String sha256(Path file) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = new byte[64 * 1024];
    try (var in = Files.newInputStream(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return hex(md.digest());
  }

  /**
   * Copies a stream into a new file, returning the SHA-256 of what was written; fsyncs the file.
   */
  public static String copyAndDigest(java.io.InputStream in, Path target) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = new byte[64 * 1024];
    Files.createDirectories(target.getParent());
    try (OutputStream out =
        Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
        out.write(buf, 0, n);
      }
    }
    fsync(target);
    return hex(md.digest());
  }
}
