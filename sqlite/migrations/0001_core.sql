-- Core schema: tenants, tokens, groups, SIMs, events and the audit log.
-- Times are INTEGER nanoseconds since the Unix epoch (UTC) so that audit
-- hashes, which cover the time in nanoseconds, recompute exactly.

CREATE TABLE tenants (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    secret_hash TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);
CREATE INDEX tokens_tenant ON tokens (tenant_id, id);

-- "groups" is an SQL keyword (window frames); the table is sim_groups.
CREATE TABLE sim_groups (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    policy      TEXT    NOT NULL, -- JSON of simguard.Policy
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

-- ICCID, IMSI and MSISDN are unique across the installation: the network
-- names a SIM by them before any tenant is known. SQLite lets any number of
-- rows hold NULL in a UNIQUE column, which is what a data-only SIM without
-- MSISDN stores.
CREATE TABLE sims (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id),
    iccid             TEXT    NOT NULL UNIQUE,
    imsi              TEXT    NOT NULL UNIQUE,
    msisdn            TEXT    UNIQUE,
    state             TEXT    NOT NULL,
    group_id          INTEGER NOT NULL REFERENCES sim_groups (id),
    labels            TEXT, -- JSON object; the source for reads
    static_ip         TEXT,
    imei_mode         TEXT    NOT NULL,
    imei              TEXT,
    imei_bound_at     INTEGER,
    imei_mismatch     TEXT,
    imei_mismatch_at  INTEGER,
    imei_repair_until INTEGER,
    active_until      INTEGER,
    usage_period      INTEGER,
    usage_data        INTEGER NOT NULL DEFAULT 0,
    usage_sms         INTEGER NOT NULL DEFAULT 0,
    version           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX sims_tenant ON sims (tenant_id, id);
CREATE INDEX sims_tenant_state ON sims (tenant_id, state, id);
CREATE INDEX sims_group ON sims (group_id, id);
CREATE INDEX sims_imei ON sims (imei) WHERE imei IS NOT NULL;

-- sim_labels indexes sims.labels for filtering. Both indexes end in
-- sim_id, so a "key" or "key=value" filter walks its index in SIM ID order,
-- the order of keyset pagination, and reads one page at a time.
CREATE TABLE sim_labels (
    sim_id    INTEGER NOT NULL REFERENCES sims (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL,
    key       TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    PRIMARY KEY (sim_id, key)
) WITHOUT ROWID;
CREATE INDEX sim_labels_kv ON sim_labels (tenant_id, key, value, sim_id);
CREATE INDEX sim_labels_key ON sim_labels (tenant_id, key, sim_id);

-- Events may name no tenant or SIM (an unknown IMSI), so no foreign keys.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    time      INTEGER NOT NULL,
    tenant_id INTEGER NOT NULL,
    sim_id    INTEGER NOT NULL,
    source    TEXT    NOT NULL,
    type      TEXT    NOT NULL,
    decision  TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    attrs     TEXT -- JSON object
);
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE INDEX events_sim ON events (sim_id, id) WHERE sim_id <> 0;
CREATE INDEX events_time ON events (time);

-- The audit chain. before/after are BLOBs so that the exact bytes the hash
-- covers come back unchanged.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    time      INTEGER NOT NULL,
    tenant_id INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    object    TEXT    NOT NULL,
    before    BLOB,
    after     BLOB,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_tenant ON audit_log (tenant_id, seq);
CREATE INDEX audit_object ON audit_log (object, seq);

-- Append-only in the schema too, so that a bug in simguard cannot rewrite
-- history. Someone with the file can drop these; the hash chain and the
-- signed checkpoints are what catch that.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    seq       INTEGER NOT NULL,
    hash      TEXT    NOT NULL,
    time      INTEGER NOT NULL,
    key_id    TEXT    NOT NULL,
    signature TEXT    NOT NULL
);
