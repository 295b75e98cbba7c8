/**
 * Fleet mode, the registry on PostgreSQL: {@link dev.mlops.registry.postgres.PostgresModelStore}, a
 * {@link dev.mlops.api.spi.ModelStore} that a fleet of instances shares, with its own schema
 * migrations and a LISTEN listener that makes every instance follow the others' changes; {@link
 * dev.mlops.registry.postgres.PostgresRegistryProvider}, which opens {@code postgresql:} URIs; and
 * artifact stores a fleet shares, {@link dev.mlops.registry.postgres.PostgresArtifactStore} and
 * {@link dev.mlops.registry.postgres.S3ArtifactStore}, which fetch into a verifying local {@link
 * dev.mlops.registry.postgres.ArtifactCache}.
 */
package dev.mlops.registry.postgres;
