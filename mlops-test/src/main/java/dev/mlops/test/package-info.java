/**
 * The published test kit: abstract JUnit 5 compatibility suites that every implementation of an
 * mlops SPI extends and must pass, in the manner of Micrometer's {@code
 * MeterRegistryCompatibilityKit}, and reference implementations that pass them.
 *
 * <ul>
 *   <li>{@link dev.mlops.test.MetricSinkCompatibilityKit} checks {@link
 *       dev.mlops.api.spi.MetricSink}s: every event kind accepted, thread-safety with exact counts,
 *       no blocking, bounded retention, and correct behaviour as the sink of a real runtime serving
 *       a real ONNX model.
 *   <li>{@link dev.mlops.test.ModelStoreCompatibilityKit} checks {@link
 *       dev.mlops.api.spi.ModelStore}s: gap-free numbering across threads, instances and child
 *       processes (one of them killed mid-insert), compare-and-set with revisions, reference rules,
 *       the audit log and its queries, side files, the change feed and durability.
 *   <li>{@link dev.mlops.test.ArtifactStoreCompatibilityKit} checks {@link
 *       dev.mlops.api.spi.ArtifactStore}s: exact file sets and bytes, idempotent and concurrent
 *       puts, no half-written artifact visible, deletes, sharing and durability.
 *   <li>{@link dev.mlops.test.InMemoryModelStore} and {@link dev.mlops.test.InMemoryArtifactStore}
 *       are correct in-memory stores: the references the kits are proven against, and test doubles
 *       for a {@code GovernedRegistry}.
 *   <li>{@link dev.mlops.test.PostgresServer} starts one real PostgreSQL server per test JVM, with
 *       a fresh database per test, to test fleet mode without Docker.
 * </ul>
 *
 * <p>Add this module with {@code test} scope.
 */
package dev.mlops.test;
