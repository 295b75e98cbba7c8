package dev.mlops.runtime.registry;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactTooLargeException;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.ModelVersion;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/**
 * Checks of a version's stored files, and the names and limits of a new artifact, checked before
 * and while it is copied. Internal to the runtime.
 */
public final class ArtifactChecks {

  private ArtifactChecks() {}

  /**
   * Fails unless the directory holds exactly the version's files: no extra file, no symbolic link
   * (to a file or a directory), nothing but plain files and directories, every recorded file
   * present. Digests are checked separately.
   */
  public static void checkExactFiles(Path filesDir, ModelVersion v) {
    Set<String> expected = new HashSet<>();
    for (ArtifactFile f : v.files()) {
      expected.add(f.path());
    }
    Set<String> present = new HashSet<>();
    try {
      if (Files.isSymbolicLink(filesDir)
          || !Files.isDirectory(filesDir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new IntegrityException(
            "the artifact directory "
                + filesDir
                + " of "
                + v.ref()
                + " is missing or is not a plain directory");
      }
      Files.walkFileTree(
          filesDir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              String rel =
                  filesDir.relativize(file).toString().replace(java.io.File.separatorChar, '/');
              if (attrs.isSymbolicLink()) {
                throw new IntegrityException(
                    "file "
                        + rel
                        + " of "
                        + v.ref()
                        + " is a symbolic link; a version holds plain files only");
              }
              if (!attrs.isRegularFile()) {
                throw new IntegrityException(
                    "file " + rel + " of " + v.ref() + " is not a regular file");
              }
              if (!expected.contains(rel)) {
                throw new IntegrityException(
                    "file "
                        + rel
                        + " in the artifact directory of "
                        + v.ref()
                        + " is not in its manifest "
                        + expected
                        + "; a version's directory holds exactly the files "
                        + "recorded at registration");
              }
              present.add(rel);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new IntegrityException(
          "cannot list the files of " + v.ref() + " in " + filesDir + ": " + e, e);
    }
    for (ArtifactFile f : v.files()) {
      if (!present.contains(f.path())) {
        throw new IntegrityException(
            "file "
                + f.path()
                + " of "
                + v.ref()
                + " is missing or not a regular file at "
                + filesDir.resolve(f.path()));
      }
    }
  }

  /**
   * Refuses a file with more than one hard link: its bytes can be changed, or can be another file's
   * (a secret elsewhere on the disk), through a name outside the artifact.
   *
   * @param name the file's name in the artifact
   * @param of what the artifact is, for the message (empty for a new one)
   * @throws dev.mlops.api.UnsafeModelException if the file has several links
   */
  public static void requireOneLink(Path file, String name, String of) {
    Object links;
    try {
      links = Files.getAttribute(file, "unix:nlink", java.nio.file.LinkOption.NOFOLLOW_LINKS);
    } catch (UnsupportedOperationException | IllegalArgumentException | IOException e) {
      return; // no link count on this platform
    }
    if (links instanceof Integer && (Integer) links > 1) {
      throw new dev.mlops.api.UnsafeModelException(
          "file '"
              + name
              + "'"
              + (of.isEmpty() ? "" : " of " + of)
              + " has "
              + links
              + " hard links; a file with another name elsewhere can be another file in disguise or"
              + " be changed from outside, so it is refused: copy it to a file of its own");
    }
  }

  /**
   * Walks an artifact directory before anything is copied: every name must be portable (see {@link
   * ArtifactFile#unportableReason}), and the regular files' count and declared sizes must be within
   * the limits. The walk stops at the first file over the count limit, so a directory of millions
   * of files is not listed to its end. Links are not followed.
   *
   * @throws dev.mlops.api.UnsafeModelException naming a name that is not portable
   * @throws ArtifactTooLargeException naming the limit passed, what was found and the builder
   *     option that raises it
   */
  public static void checkSource(Path dir, Limits limits) throws IOException {
    long[] found = {0, 0}; // files, bytes
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
            if (!d.equals(dir)) {
              checkPortable(dir, d);
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            checkPortable(dir, file);
            if (attrs.isRegularFile()) {
              found[0]++;
              found[1] += attrs.size();
              limits.checkKnownFiles(found[0]);
            }
            return FileVisitResult.CONTINUE;
          }
        });
    limits.checkKnown(found[1]);
  }

  private static void checkPortable(Path dir, Path p) {
    String rel = dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
    ArtifactFile.unportableReason(rel)
        .ifPresent(
            why -> {
              throw new dev.mlops.api.UnsafeModelException(
                  "artifact directory "
                      + dir
                      + " holds a name the registry does not store: "
                      + why
                      + ": rename it; nothing was registered");
            });
  }

  /**
   * Counts the files and bytes copied into one new version and cuts the copy off past a limit. Not
   * thread-safe: one per registration.
   */
  public static final class Limits {
    private final long maxBytes;
    private final long maxFiles;
    private final String what;
    private long total;
    private long files;

    /**
     * @param maxBytes bytes over all files @param maxFiles number of files @param what the model,
     *     for messages
     */
    public Limits(long maxBytes, long maxFiles, String what) {
      this.maxBytes = maxBytes;
      this.maxFiles = maxFiles;
      this.what = what;
    }

    /** Fails at once if files of a known size already exceed the byte limit. */
    public void checkKnown(long bytes) {
      if (bytes > maxBytes) {
        throw tooLarge(bytes, true);
      }
    }

    /** Fails at once if a source already declares more files than the file limit. */
    public void checkKnownFiles(long count) {
      if (count > maxFiles) {
        throw tooManyFiles(count, true);
      }
    }

    /** Counts one more file about to be copied; fails once the file limit is passed. */
    public void countFile() {
      files++;
      if (files > maxFiles) {
        throw tooManyFiles(files, false);
      }
    }

    /** A stream that counts what is read through it and fails once the byte limit is passed. */
    public InputStream wrap(InputStream in) {
      return new FilterInputStream(in) {
        @Override
        public int read() throws IOException {
          int b = super.read();
          if (b >= 0) {
            add(1);
          }
          return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
          // Never read more than one byte past the limit, so an endless stream stops here.
          long room = maxBytes - total + 1;
          int n = super.read(buf, off, (int) Math.max(1, Math.min(len, room)));
          if (n > 0) {
            add(n);
          }
          return n;
        }
      };
    }

    private void add(long n) {
      total += n;
      if (total > maxBytes) {
        throw tooLarge(total, false);
      }
    }

    private ArtifactTooLargeException tooLarge(long size, boolean known) {
      return new ArtifactTooLargeException(
          "the artifact of a new version of '"
              + what
              + "' is "
              + (known ? "" : "at least ")
              + size
              + " bytes"
              + (known ? "" : " (reading stopped there)")
              + ", over the registry's limit of "
              + maxBytes
              + " bytes; nothing was registered: raise the limit with"
              + " GovernedRegistry.Builder.maxArtifactBytes(...) if the artifact is meant to be"
              + " that large",
          ArtifactTooLargeException.Limit.BYTES,
          maxBytes,
          size);
    }

    private ArtifactTooLargeException tooManyFiles(long count, boolean beforeCopy) {
      return new ArtifactTooLargeException(
          "the artifact of a new version of '"
              + what
              + "' holds at least "
              + count
              + " files"
              + (beforeCopy
                  ? " (counted before copying; counting stopped there)"
                  : " (copying stopped there)")
              + ", over the registry's limit of "
              + maxFiles
              + " files; nothing was registered: raise the limit with"
              + " GovernedRegistry.Builder.maxArtifactFiles(...) if the artifact is meant to hold"
              + " that many",
          ArtifactTooLargeException.Limit.FILES,
          maxFiles,
          count);
    }
  }
}
