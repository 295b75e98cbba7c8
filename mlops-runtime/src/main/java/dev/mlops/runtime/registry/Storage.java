package dev.mlops.runtime.registry;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;
import java.util.function.Function;

/**
 * Durable file operations of the registry and the directory stores: write to a temporary file,
 * fsync, rename, fsync the directory; SHA-256 while copying. Internal to the runtime. Stateless.
 */
public final class Storage {

  private Storage() {}

  /**
   * Replaces {@code target} with {@code content}: a temporary file with an unpredictable name is
   * created exclusively beside it (never through a link), written, fsynced and renamed over the
   * target, which replaces a planted link itself rather than what it points to.
   */
  public static void writeAtomically(Path target, String content) throws IOException {
    Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
    try {
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.WRITE,
              LinkOption.NOFOLLOW_LINKS)) {
        ByteBuffer buf = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    fsyncDirectory(target.getParent());
  }

  /**
   * Writes a new file exclusively (it must not exist, not even as a link) and fsyncs it.
   *
   * @throws java.nio.file.FileAlreadyExistsException if anything is at {@code target}
   */
  public static void writeNew(Path target, byte[] content) throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            target,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer buf = ByteBuffer.wrap(content);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
  }

  /**
   * Appends one line to a regular file (created if missing), never through a link. Callers hold the
   * registry's write lock, so no other append runs meanwhile. A crash during an earlier append can
   * leave a line without its newline; that fragment is cut off first, or the new line would join it
   * and turn a torn last line into a damaged middle one.
   *
   * @param line makes the line from the last complete line of the file (without its newline; null
   *     when the file has none), so that a line can name the one before it
   * @throws NotRegularFileException if the path is a link, a directory, a FIFO or a device
   */
  public static void appendLine(Path file, Function<byte[], String> line) throws IOException {
    try (FileChannel ch = openRegular(file, true)) {
      long end = endOfLastLine(ch, ch.size());
      if (end < ch.size()) {
        ch.truncate(end);
      }
      byte[] last = lineEndingAt(ch, end);
      ByteBuffer buf = ByteBuffer.wrap((line.apply(last) + "\n").getBytes(StandardCharsets.UTF_8));
      while (buf.hasRemaining()) {
        end += ch.write(buf, end);
      }
      ch.force(true);
    }
  }

  /**
   * Reads a whole regular file; a link, directory, FIFO or device is refused before anything opens
   * it (a FIFO would block the reader forever).
   *
   * @throws java.nio.file.NoSuchFileException if nothing is there
   * @throws NotRegularFileException if something other than a regular file is there
   */
  public static byte[] readRegular(Path file) throws IOException {
    try (FileChannel ch = openRegular(file, false)) {
      long size = ch.size();
      if (size > Integer.MAX_VALUE - 16) {
        throw new IOException(file + " is too large to read (" + size + " bytes)");
      }
      ByteBuffer buf = ByteBuffer.allocate((int) size);
      while (buf.hasRemaining()) {
        if (ch.read(buf) < 0) {
          break;
        }
      }
      return buf.position() == buf.capacity()
          ? buf.array()
          : java.util.Arrays.copyOf(buf.array(), buf.position());
    }
  }

  /** {@link #readRegular} as UTF-8 text. */
  public static String readRegularString(Path file) throws IOException {
    return new String(readRegular(file), StandardCharsets.UTF_8);
  }

  /**
   * Opens a regular file without following a link: what is at the path is checked before the open
   * (so a FIFO is never opened) and again after it (so a swap in between is caught).
   */
  private static FileChannel openRegular(Path file, boolean appending) throws IOException {
    // A writer's atomic rename may replace the file between the two checks; try again then.
    for (int attempt = 0; ; attempt++) {
      BasicFileAttributes before = regularOrAbsent(file, appending);
      FileChannel ch =
          appending
              ? FileChannel.open(
                  file,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.READ,
                  StandardOpenOption.WRITE,
                  LinkOption.NOFOLLOW_LINKS)
              : FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
      try {
        BasicFileAttributes after = regularOrAbsent(file, false);
        if (before == null
            || before.fileKey() == null
            || before.fileKey().equals(after.fileKey())) {
          return ch;
        }
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
      ch.close();
      if (attempt == 20) {
        throw new NotRegularFileException(file, "kept being replaced while it was being opened");
      }
    }
  }

  /**
   * Fails unless the path holds a regular file or nothing: not a link, directory, FIFO or device.
   */
  public static void requireRegularOrAbsent(Path file) throws IOException {
    regularOrAbsent(file, true);
  }

  /** The attributes of a regular file at the path; null if absent and {@code absentOk}. */
  private static BasicFileAttributes regularOrAbsent(Path file, boolean absentOk)
      throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      if (absentOk) {
        return null;
      }
      throw e;
    }
    if (!a.isRegularFile()) {
      throw new NotRegularFileException(file, "is " + kind(a) + ", not a regular file");
    }
    return a;
  }

  /**
   * Fails unless {@code dir} is a directory itself, not a link to one (nor anything else): the
   * directories the registry writes into must be its own.
   */
  public static void requirePlainDirectory(Path dir) throws IOException {
    BasicFileAttributes a =
        Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!a.isDirectory()) {
      throw new NotRegularFileException(dir, "is " + kind(a) + ", not a plain directory");
    }
  }

  /**
   * Creates {@code dir} (its parent must exist) unless it is there; either way it must be plain.
   */
  public static Path plainDirectory(Path dir) throws IOException {
    try {
      Files.createDirectory(dir);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      // checked below
    }
    requirePlainDirectory(dir);
    return dir;
  }

  private static String kind(BasicFileAttributes a) {
    if (a.isSymbolicLink()) {
      return "a symbolic link";
    }
    if (a.isDirectory()) {
      return "a directory";
    }
    if (a.isRegularFile()) {
      return "a regular file";
    }
    return "a special file (FIFO, socket or device)";
  }

  /**
   * A registry path that holds something other than what the registry puts there: a planted link, a
   * FIFO, a directory where a file belongs.
   */
  public static final class NotRegularFileException extends java.nio.file.FileSystemException {
    private static final long serialVersionUID = 1L;

    NotRegularFileException(Path file, String what) {
      super(file.toString(), null, what);
    }
  }

  /** The offset just after the last newline before {@code limit}, 0 if there is none. */
  /**
   * The last complete line of a regular file, without its newline; null when the file is absent or
   * holds no complete line. Bytes after the last newline (a torn append) are not a line.
   */
  public static byte[] lastLine(Path file) throws IOException {
    try (FileChannel ch = openRegular(file, false)) {
      return lineEndingAt(ch, endOfLastLine(ch, ch.size()));
    } catch (java.nio.file.NoSuchFileException e) {
      return null;
    }
  }

  /** The line whose newline ends just before {@code end}; null when {@code end} is 0. */
  private static byte[] lineEndingAt(FileChannel ch, long end) throws IOException {
    if (end == 0) {
      return null;
    }
    long start = endOfLastLine(ch, end - 1);
    ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(end - 1 - start));
    while (buf.hasRemaining()) {
      if (ch.read(buf, start + buf.position()) < 0) {
        throw new IOException("file shrank while reading its last line");
      }
    }
    return buf.array();
  }

  private static long endOfLastLine(FileChannel ch, long limit) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(8192);
    long pos = limit;
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
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
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

  /** SHA-256 of bytes, hex. */
  public static String sha256Hex(byte[] bytes) {
    return hex(sha256().digest(bytes));
  }

  /** SHA-256 of a regular file's content, hex; a link or special file is refused. */
  public static String sha256(Path file) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = new byte[64 * 1024];
    try (var in = java.nio.channels.Channels.newInputStream(openRegular(file, false))) {
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
        Files.newOutputStream(
            target,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS)) {
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
