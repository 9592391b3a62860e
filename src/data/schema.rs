//! The `appeals` table of the contract: its columns, which are required, and the SQL that creates
//! it (used by the demo generator and tests; the viewer itself never writes).

/// Columns every database must have.
pub const REQUIRED_COLUMNS: &[&str] = &["id", "received_at", "source", "category", "status"];

/// Columns read when present, treated as NULL when absent.
pub const OPTIONAL_COLUMNS: &[&str] = &[
    "external_id",
    "subcategory",
    "municipality",
    "settlement",
    "address",
    "lat",
    "lon",
    "resolved_at",
    "text",
];

/// `CREATE TABLE` for a database that follows the contract, with the indexes the viewer's
/// queries benefit from.
pub const CREATE_APPEALS_SQL: &str = "
CREATE TABLE appeals (
    id           INTEGER PRIMARY KEY,
    external_id  TEXT,
    received_at  TEXT NOT NULL,
    source       TEXT NOT NULL,
    category     TEXT NOT NULL,
    subcategory  TEXT,
    municipality TEXT,
    settlement   TEXT,
    address      TEXT,
    lat          REAL,
    lon          REAL,
    status       TEXT NOT NULL,
    resolved_at  TEXT,
    text         TEXT
);
CREATE INDEX appeals_received_at ON appeals(received_at);
CREATE INDEX appeals_category ON appeals(category, subcategory);
CREATE INDEX appeals_municipality ON appeals(municipality);
";
