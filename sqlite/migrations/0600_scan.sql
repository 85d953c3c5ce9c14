-- Fleet exposure audit (package scan): scan runs and their findings.
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
    finding   TEXT    NOT NULL
);

CREATE INDEX scan_findings_scan ON scan_findings (scan_id, id);
CREATE INDEX scan_findings_tenant ON scan_findings (tenant_id, id);
CREATE INDEX scan_findings_sim ON scan_findings (tenant_id, sim_id, id);
