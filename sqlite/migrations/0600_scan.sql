-- Fleet exposure audit (package scan): scan runs, their findings, and the
-- exposure of every service ever found open.
-- A run and its findings are written together when it finishes, so a run
-- that reads 'done' always has all its findings. The documents are JSON
-- (simguard.ScanRun, simguard.Finding); the columns beside them are what
-- queries filter and order by.

CREATE TABLE scan_runs (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    scope       TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    run         TEXT    NOT NULL
);

CREATE INDEX scan_runs_scope ON scan_runs (tenant_id, scope, status, id);
CREATE INDEX scan_runs_status ON scan_runs (status);

CREATE TABLE scan_findings (
    id        INTEGER PRIMARY KEY,
    scan_id   INTEGER NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    sim_id    INTEGER NOT NULL DEFAULT 0,
    grp       TEXT    NOT NULL DEFAULT '',
    target    TEXT    NOT NULL,
    proto     TEXT    NOT NULL,
    port      INTEGER NOT NULL,
    severity  INTEGER NOT NULL, -- simguard.Severity.Rank(), for MinSeverity
    kinds     TEXT    NOT NULL DEFAULT ',', -- ",default_credential,plaintext_login," for the Kind filter
    finding   TEXT    NOT NULL
);

CREATE INDEX scan_findings_scan ON scan_findings (scan_id, id);
CREATE INDEX scan_findings_tenant ON scan_findings (tenant_id, id);
CREATE INDEX scan_findings_sim ON scan_findings (tenant_id, sim_id, id);

-- One row per service (tenant, address, protocol, port) ever found open:
-- the latest finding of it, when its current open streak began, when it
-- was last seen, and when a complete scan that looked found it closed.
CREATE TABLE scan_exposures (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    target      TEXT    NOT NULL,
    proto       TEXT    NOT NULL,
    port        INTEGER NOT NULL,
    finding_id  INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    closed_at   INTEGER,
    closed_scan INTEGER,
    UNIQUE (tenant_id, target, proto, port)
);

CREATE INDEX scan_exposures_finding ON scan_exposures (finding_id);
CREATE INDEX scan_exposures_open ON scan_exposures (tenant_id, closed_at);
