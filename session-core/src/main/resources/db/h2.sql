-- Journal and snapshot tables for pekko-persistence-jdbc 1.1.1 on H2, and the erasure audit table, idempotent.
-- Events are VARBINARY, stored in their row (a BLOB is a separate LOB entry per event: about 15 %
-- fewer appends per second on one session, docs/PERFORMANCE.md); databases created with BLOB
-- keep it and work as before (the plugin reads and writes both as bytes).
CREATE TABLE IF NOT EXISTS PUBLIC."event_journal" (
    "ordering" BIGINT UNIQUE NOT NULL AUTO_INCREMENT,
    "deleted" BOOLEAN DEFAULT false NOT NULL,
    "persistence_id" VARCHAR(255) NOT NULL,
    "sequence_number" BIGINT NOT NULL,
    "writer" VARCHAR NOT NULL,
    "write_timestamp" BIGINT NOT NULL,
    "adapter_manifest" VARCHAR NOT NULL,
    "event_payload" VARBINARY NOT NULL,
    "event_ser_id" INTEGER NOT NULL,
    "event_ser_manifest" VARCHAR NOT NULL,
    "meta_payload" BLOB,
    "meta_ser_id" INTEGER,
    "meta_ser_manifest" VARCHAR,
    PRIMARY KEY("persistence_id","sequence_number"));
CREATE UNIQUE INDEX IF NOT EXISTS "event_journal_ordering_idx" ON PUBLIC."event_journal" ("ordering");
CREATE TABLE IF NOT EXISTS PUBLIC."event_tag" (
    "event_id" BIGINT NOT NULL,
    "tag" VARCHAR NOT NULL,
    PRIMARY KEY("event_id", "tag"),
    CONSTRAINT fk_event_journal FOREIGN KEY("event_id") REFERENCES "event_journal"("ordering") ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS PUBLIC."snapshot" (
    "persistence_id" VARCHAR(255) NOT NULL,
    "sequence_number" BIGINT NOT NULL,
    "created" BIGINT NOT NULL,
    "snapshot_ser_id" INTEGER NOT NULL,
    "snapshot_ser_manifest" VARCHAR NOT NULL,
    "snapshot_payload" BLOB NOT NULL,
    "meta_ser_id" INTEGER,
    "meta_ser_manifest" VARCHAR,
    "meta_payload" BLOB,
    PRIMARY KEY("persistence_id","sequence_number"));
-- One row per erased session: who erased it, when, why, and how many rows went. It outlives
-- the session's events on purpose (docs/OPERATIONS.md, "Erasure and retention").
CREATE TABLE IF NOT EXISTS PUBLIC."session_erasure" (
    "session_id" VARCHAR(255) NOT NULL PRIMARY KEY,
    "erased_by" VARCHAR(255) NOT NULL,
    "role" VARCHAR(32) NOT NULL,
    "reason" VARCHAR(32) NOT NULL,
    "erased_at" TIMESTAMP WITH TIME ZONE NOT NULL,
    "head" BIGINT NOT NULL,
    "events" BIGINT NOT NULL,
    "snapshots" BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS "session_erasure_erased_at_idx" ON PUBLIC."session_erasure" ("erased_at");
