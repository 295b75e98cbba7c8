package dev.mlops.metrics.drift;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the input features (and the prediction) looked like on a reference data set, typically the
 * training data: the yardstick that a {@link DriftMonitor} compares live traffic with. Computed
 * once, at registration, and stored with the model version as an attachment named {@value
 * #ATTACHMENT_NAME}:
 *
 * <pre>{@code
 * DriftBaseline baseline = DriftBaseline.compute(featureNames, trainingRows);
 * registry.register(
 *     Registration.builder("cancer", ArtifactSource.file(model))
 *         .attachment(DriftBaseline.ATTACHMENT_NAME, baseline.toBytes())
 *         .build(),
 *     audit);
 * }</pre>
 *
 * <p><b>Per feature</b> it holds ({@link Feature}):
 *
 * <ul>
 *   <li>the count of finite reference values and of NaN ones; infinite values are ignored;
 *   <li>the minimum and maximum finite value (the "range" of out-of-range rates);
 *   <li>bin edges for the population stability index: the reference's empirical quantiles at {@code
 *       j / bins} for {@code j = 1 .. bins-1}, each the nearest-rank value {@code sorted[ceil(j * n
 *       / bins) - 1]}, keeping only edges strictly above the previous one and strictly below the
 *       maximum (so ties merge bins, and no bin is empty by construction). Bin {@code i} holds the
 *       values {@code v} with {@code edge[i-1] < v <= edge[i]}, the first bin everything up to
 *       {@code edge[0]}, the last everything above the last edge;
 *   <li>the proportion of finite reference values in each bin;
 *   <li>a sorted sample for the Kolmogorov–Smirnov statistic: every finite value when there are at
 *       most {@link Builder#sampleLimit sampleLimit} ({@value #DEFAULT_SAMPLE_LIMIT} by default) of
 *       them, which makes the statistic exact; otherwise the nearest-rank quantiles at {@code (i +
 *       1) / sampleLimit}, whose empirical distribution is within {@code 1 / sampleLimit} of the
 *       reference's everywhere, so the statistic is within that of the exact one.
 * </ul>
 *
 * <p><b>Size.</b> About {@code 4 * sample + 12 * bins + 40} bytes per feature plus its name: at
 * most 4.2 KB per feature with the defaults.
 *
 * <p><b>Format</b> of {@link #toBytes()}, big-endian, as written by {@link DataOutputStream}:
 *
 * <pre>
 * int    magic 0x4D4C4442 ("MLDB")
 * int    format version, 1
 * int    number of features F
 * F times:
 *   UTF    name (modified UTF-8, as DataOutput.writeUTF)
 *   long   count of finite values n
 *   long   count of NaN values
 *   float  minimum, float maximum (NaN when n = 0)
 *   int    number of edges E, then E floats, ascending
 *   E + 1 doubles: bin proportions
 *   int    sample size S, then S floats, ascending
 * </pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class DriftBaseline {

  /** The attachment name under which a version's baseline is stored by convention. */
  public static final String ATTACHMENT_NAME = "drift-baseline";

  /** The feature name of the monitored prediction output in a baseline and in statistics. */
  public static final String PREDICTION = "prediction";

  /** Default number of bins for the population stability index. */
  public static final int DEFAULT_BINS = 10;

  /** Default largest sample kept for the Kolmogorov–Smirnov statistic. */
  public static final int DEFAULT_SAMPLE_LIMIT = 1024;

  private static final int MAGIC = 0x4D4C4442;
  private static final int FORMAT_VERSION = 1;
  private static final int MAX_NAME_LENGTH = 1_000;

  private final List<Feature> features;
  private final Map<String, Feature> byName;

  private DriftBaseline(List<Feature> features) {
    Map<String, Feature> map = new LinkedHashMap<>();
    for (Feature f : features) {
      if (map.put(f.name(), f) != null) {
        throw new IllegalArgumentException("duplicate feature name '" + f.name() + "'");
      }
    }
    this.features = List.copyOf(features);
    this.byName = Collections.unmodifiableMap(map);
  }

  /**
   * The baseline of the columns of {@code reference} with the default bins and sample limit.
   *
   * @param featureNames one name per column, in column order
   * @param reference reference rows, each with one value per name; not modified
   * @return the baseline
   * @throws IllegalArgumentException if a row's length differs from the number of names, or a name
   *     is blank, too long or repeated
   */
  public static DriftBaseline compute(List<String> featureNames, float[][] reference) {
    return builder().features(featureNames, reference).build();
  }

  /**
   * A builder, for other bin counts or sample limits, or to add the prediction column.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Names of the features, in the order given when computed.
   *
   * @return an unmodifiable list
   */
  public List<String> featureNames() {
    return List.copyOf(byName.keySet());
  }

  /**
   * Every feature's baseline, in order.
   *
   * @return an unmodifiable list
   */
  public List<Feature> features() {
    return features;
  }

  /**
   * One feature's baseline.
   *
   * @param name the feature name
   * @return the feature, or empty if the baseline has no such feature
   */
  public Optional<Feature> feature(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /**
   * Serializes the baseline in the format described in the class documentation.
   *
   * @return a new array
   */
  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(FORMAT_VERSION);
      out.writeInt(features.size());
      for (Feature f : features) {
        out.writeUTF(f.name);
        out.writeLong(f.count);
        out.writeLong(f.nanCount);
        out.writeFloat(f.min);
        out.writeFloat(f.max);
        out.writeInt(f.edges.length);
        for (float e : f.edges) {
          out.writeFloat(e);
        }
        for (double p : f.proportions) {
          out.writeDouble(p);
        }
        out.writeInt(f.sample.length);
        for (float s : f.sample) {
          out.writeFloat(s);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory cannot fail", e);
    }
    return bytes.toByteArray();
  }

  /**
   * Reads a baseline written by {@link #toBytes()}.
   *
   * @param bytes the serialized baseline
   * @return the baseline
   * @throws IllegalArgumentException if the bytes are not a valid baseline, saying what is wrong
   */
  public static DriftBaseline fromBytes(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int magic = in.readInt();
      if (magic != MAGIC) {
        throw new IllegalArgumentException(
            "not a drift baseline: expected magic 0x4D4C4442 (\"MLDB\") but found 0x"
                + Integer.toHexString(magic));
      }
      int version = in.readInt();
      if (version != FORMAT_VERSION) {
        throw new IllegalArgumentException(
            "drift baseline format version "
                + version
                + " is not supported; this library reads version "
                + FORMAT_VERSION);
      }
      int count = checkedLength(in.readInt(), "feature count", bytes.length);
      List<Feature> features = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String name = in.readUTF();
        long n = in.readLong();
        long nan = in.readLong();
        float min = in.readFloat();
        float max = in.readFloat();
        float[] edges =
            new float[checkedLength(in.readInt(), "edge count of " + name, bytes.length)];
        for (int j = 0; j < edges.length; j++) {
          edges[j] = in.readFloat();
        }
        double[] proportions = new double[edges.length + 1];
        for (int j = 0; j < proportions.length; j++) {
          proportions[j] = in.readDouble();
        }
        float[] sample =
            new float[checkedLength(in.readInt(), "sample size of " + name, bytes.length)];
        for (int j = 0; j < sample.length; j++) {
          sample[j] = in.readFloat();
        }
        features.add(new Feature(name, n, nan, min, max, edges, proportions, sample));
      }
      if (in.available() > 0) {
        throw new IllegalArgumentException(
            "drift baseline has "
                + in.available()
                + " unexpected bytes after its "
                + count
                + " features");
      }
      return new DriftBaseline(features);
    } catch (EOFException e) {
      throw new IllegalArgumentException(
          "drift baseline is truncated (" + bytes.length + " bytes)", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("drift baseline cannot be read: " + e.getMessage(), e);
    }
  }

  private static int checkedLength(int length, String what, int available) {
    if (length < 0 || length > available) {
      throw new IllegalArgumentException("drift baseline is corrupt: " + what + " is " + length);
    }
    return length;
  }

  /** Equal when every feature is equal, in the same order. */
  @Override
  public boolean equals(Object o) {
    return o instanceof DriftBaseline && features.equals(((DriftBaseline) o).features);
  }

  @Override
  public int hashCode() {
    return features.hashCode();
  }

  /** Lists the feature names and counts. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("DriftBaseline[");
    for (int i = 0; i < features.size(); i++) {
      Feature f = features.get(i);
      sb.append(i == 0 ? "" : ", ").append(f.name).append(" n=").append(f.count);
    }
    return sb.append(']').toString();
  }

  /**
   * The reference distribution of one feature (see {@link DriftBaseline} for how each part is
   * computed). Immutable; array accessors return copies.
   */
  public static final class Feature {
    private final String name;
    private final long count;
    private final long nanCount;
    private final float min;
    private final float max;
    private final float[] edges;
    private final double[] proportions;
    private final float[] sample;

    Feature(
        String name,
        long count,
        long nanCount,
        float min,
        float max,
        float[] edges,
        double[] proportions,
        float[] sample) {
      this.name = checkName(name);
      if (count < 0 || nanCount < 0) {
        throw new IllegalArgumentException(
            name + ": counts must be >= 0 but were " + count + " and " + nanCount);
      }
      if (proportions.length != edges.length + 1) {
        throw new IllegalArgumentException(
            name
                + ": "
                + edges.length
                + " edges need "
                + (edges.length + 1)
                + " proportions, not "
                + proportions.length);
      }
      for (int i = 1; i < edges.length; i++) {
        if (!(edges[i] > edges[i - 1])) {
          throw new IllegalArgumentException(
              name + ": bin edges must be strictly ascending: " + Arrays.toString(edges));
        }
      }
      for (int i = 1; i < sample.length; i++) {
        if (!(sample[i] >= sample[i - 1])) {
          throw new IllegalArgumentException(
              name + ": the sample must be sorted ascending and hold no NaN");
        }
      }
      if (count > 0 && (sample.length == 0 || sample.length > count)) {
        throw new IllegalArgumentException(
            name
                + ": a sample of "
                + sample.length
                + " values cannot stand for "
                + count
                + " values");
      }
      this.count = count;
      this.nanCount = nanCount;
      this.min = min;
      this.max = max;
      this.edges = edges;
      this.proportions = proportions;
      this.sample = sample;
    }

    /**
     * The feature name.
     *
     * @return the name
     */
    public String name() {
      return name;
    }

    /**
     * Number of finite reference values.
     *
     * @return the count, 0 if the reference had none (then drift cannot be measured)
     */
    public long count() {
      return count;
    }

    /**
     * Number of NaN reference values.
     *
     * @return the count
     */
    public long nanCount() {
      return nanCount;
    }

    /**
     * The smallest finite reference value.
     *
     * @return the minimum, NaN if there was none
     */
    public float min() {
      return min;
    }

    /**
     * The largest finite reference value.
     *
     * @return the maximum, NaN if there was none
     */
    public float max() {
      return max;
    }

    /**
     * The interior bin edges, strictly ascending; {@code binEdges().length + 1} bins.
     *
     * @return a copy
     */
    public float[] binEdges() {
      return edges.clone();
    }

    /**
     * The proportion of finite reference values in each bin; they sum to 1 (0 for no values).
     *
     * @return a copy, one entry per bin
     */
    public double[] binProportions() {
      return proportions.clone();
    }

    /**
     * The sorted reference sample used for the Kolmogorov–Smirnov statistic.
     *
     * @return a copy, ascending
     */
    public float[] sample() {
      return sample.clone();
    }

    /**
     * The bin a value falls in: the number of edges strictly below it.
     *
     * @param value a non-NaN value
     * @return the bin index, from 0 to {@code binEdges().length}
     */
    public int bin(float value) {
      return bin(edges, value);
    }

    static int bin(float[] edges, float value) {
      int lo = 0;
      int hi = edges.length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (edges[mid] < value) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    }

    float[] edgesInternal() {
      return edges;
    }

    double[] proportionsInternal() {
      return proportions;
    }

    float[] sampleInternal() {
      return sample;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Feature)) {
        return false;
      }
      Feature f = (Feature) o;
      return name.equals(f.name)
          && count == f.count
          && nanCount == f.nanCount
          && Float.compare(min, f.min) == 0
          && Float.compare(max, f.max) == 0
          && Arrays.equals(edges, f.edges)
          && Arrays.equals(proportions, f.proportions)
          && Arrays.equals(sample, f.sample);
    }

    @Override
    public int hashCode() {
      return Objects.hash(
          name,
          count,
          nanCount,
          min,
          max,
          Arrays.hashCode(edges),
          Arrays.hashCode(proportions),
          Arrays.hashCode(sample));
    }

    /** Name, counts, range and bins. */
    @Override
    public String toString() {
      return "Feature["
          + name
          + " n="
          + count
          + " nan="
          + nanCount
          + " range=["
          + min
          + ", "
          + max
          + "] edges="
          + Arrays.toString(edges)
          + "]";
    }

    static Feature compute(String name, float[] values, int bins, int sampleLimit) {
      long nan = 0;
      float[] finite = new float[values.length];
      int n = 0;
      for (float v : values) {
        if (Float.isNaN(v)) {
          nan++;
        } else if (!Float.isInfinite(v)) {
          finite[n++] = v;
        }
      }
      finite = Arrays.copyOf(finite, n);
      Arrays.sort(finite);
      if (n == 0) {
        return new Feature(
            name, 0, nan, Float.NaN, Float.NaN, new float[0], new double[] {0.0}, new float[0]);
      }
      float max = finite[n - 1];
      float[] edges = new float[bins - 1];
      int e = 0;
      for (int j = 1; j < bins; j++) {
        float edge = finite[nearestRank(j, bins, n)];
        if (edge < max && (e == 0 || edge > edges[e - 1])) {
          edges[e++] = edge;
        }
      }
      edges = Arrays.copyOf(edges, e);
      long[] counts = new long[e + 1];
      for (float v : finite) {
        counts[bin(edges, v)]++;
      }
      double[] proportions = new double[e + 1];
      for (int i = 0; i <= e; i++) {
        proportions[i] = (double) counts[i] / n;
      }
      float[] sample;
      if (n <= sampleLimit) {
        sample = finite;
      } else {
        sample = new float[sampleLimit];
        for (int i = 0; i < sampleLimit; i++) {
          sample[i] = finite[nearestRank(i + 1, sampleLimit, n)];
        }
      }
      return new Feature(name, n, nan, finite[0], max, edges, proportions, sample);
    }

    /** Index of the nearest-rank quantile {@code j / k} among {@code n} sorted values. */
    static int nearestRank(long j, long k, long n) {
      return (int) ((j * n + k - 1) / k) - 1;
    }

    private static String checkName(String name) {
      Objects.requireNonNull(name, "feature name");
      if (name.isBlank() || name.length() > MAX_NAME_LENGTH) {
        throw new IllegalArgumentException(
            "feature names must be 1 to "
                + MAX_NAME_LENGTH
                + " characters and not blank, but got '"
                + (name.length() > 40 ? name.substring(0, 40) + "..." : name)
                + "'");
      }
      return name;
    }
  }

  /**
   * Builds a {@link DriftBaseline} from columns of reference data. Options may be set once; columns
   * are computed when added, with the options set before. Not thread-safe.
   */
  public static final class Builder {
    private int bins = DEFAULT_BINS;
    private boolean binsSet;
    private int sampleLimit = DEFAULT_SAMPLE_LIMIT;
    private boolean sampleLimitSet;
    private final List<Feature> features = new ArrayList<>();
    private final java.util.Set<String> names = new java.util.HashSet<>();

    private Builder() {}

    /**
     * Number of bins for the population stability index (fewer when quantiles tie). Default {@value
     * #DEFAULT_BINS}.
     *
     * @param bins from 2 to 1000
     * @return this builder
     * @throws IllegalArgumentException if out of range
     * @throws IllegalStateException if already set, or set after a column was added
     */
    public Builder bins(int bins) {
      if (bins < 2 || bins > 1_000) {
        throw new IllegalArgumentException("bins must be between 2 and 1000 but was " + bins);
      }
      checkOption(binsSet, "bins");
      this.bins = bins;
      this.binsSet = true;
      return this;
    }

    /**
     * Largest sample kept per feature for the Kolmogorov–Smirnov statistic; above it, quantiles
     * stand in (see {@link DriftBaseline}). Default {@value #DEFAULT_SAMPLE_LIMIT}.
     *
     * @param sampleLimit from 16 to 1,000,000
     * @return this builder
     * @throws IllegalArgumentException if out of range
     * @throws IllegalStateException if already set, or set after a column was added
     */
    public Builder sampleLimit(int sampleLimit) {
      if (sampleLimit < 16 || sampleLimit > 1_000_000) {
        throw new IllegalArgumentException(
            "sampleLimit must be between 16 and 1000000 but was " + sampleLimit);
      }
      checkOption(sampleLimitSet, "sampleLimit");
      this.sampleLimit = sampleLimit;
      this.sampleLimitSet = true;
      return this;
    }

    /**
     * Adds one feature per column of the reference rows.
     *
     * @param featureNames one name per column
     * @param rows the reference rows; not modified
     * @return this builder
     * @throws IllegalArgumentException if a row's length differs from the number of names, or a
     *     name is invalid or already added
     */
    public Builder features(List<String> featureNames, float[][] rows) {
      Objects.requireNonNull(featureNames, "featureNames");
      Objects.requireNonNull(rows, "rows");
      int width = featureNames.size();
      for (int r = 0; r < rows.length; r++) {
        if (rows[r] == null || rows[r].length != width) {
          throw new IllegalArgumentException(
              "reference row "
                  + r
                  + " has "
                  + (rows[r] == null ? "no values" : rows[r].length + " values")
                  + " but there are "
                  + width
                  + " feature names");
        }
      }
      float[] column = new float[rows.length];
      for (int c = 0; c < width; c++) {
        for (int r = 0; r < rows.length; r++) {
          column[r] = rows[r][c];
        }
        feature(featureNames.get(c), column);
      }
      return this;
    }

    /**
     * Adds one feature from its reference values; e.g. {@link DriftBaseline#PREDICTION} with the
     * model's outputs on the reference rows.
     *
     * @param name the feature name
     * @param values the reference values; not modified
     * @return this builder
     * @throws IllegalArgumentException if the name is invalid or already added
     */
    public Builder feature(String name, float[] values) {
      Objects.requireNonNull(values, "values");
      Feature.checkName(name);
      if (!names.add(name)) {
        throw new IllegalArgumentException("feature '" + name + "' was already added");
      }
      features.add(Feature.compute(name, values, bins, sampleLimit));
      return this;
    }

    /**
     * Builds the baseline.
     *
     * @return the baseline of every column added
     * @throws IllegalStateException if no column was added
     */
    public DriftBaseline build() {
      if (features.isEmpty()) {
        throw new IllegalStateException(
            "a drift baseline needs at least one feature; add columns first");
      }
      return new DriftBaseline(features);
    }

    private void checkOption(boolean set, String option) {
      if (set) {
        throw new IllegalStateException(option + " was already set");
      }
      if (!features.isEmpty()) {
        throw new IllegalStateException(option + " must be set before the first column is added");
      }
    }
  }
}
