//! `teplokarta import … --into postgres://…` against a real server (`TEPLOKARTA_PG_URL`, started
//! by `.ci/run`; every test is `#[ignore]`d and works in a fresh schema it drops): the same input
//! files imported into SQLite and into PostgreSQL give the same rows, the same `Appeals` when
//! loaded back through `Source`, the same summary and the same rejected-rows reports; a re-import
//! does the same on both (no duplicates, changed rows rewritten); a failure anywhere — a broken
//! file, a server-side error in the middle of the `COPY`, a value PostgreSQL cannot store —
//! leaves the table exactly as it was; a missing table is created with the contract's types, and
//! an existing table without a contract column is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::pg::{Schema, pg_url};

use std::path::{Path, PathBuf};

use common::{encode, run_cli, write};
use encoding_rs::WINDOWS_1251;
use teplokarta::data::import::write::{ImportOptions, ImportSummary, import_into};
use teplokarta::data::{Appeals, Source};

/// A table's columns (`name type`) and rows (every value as text).
type Dump = (Vec<String>, Vec<Vec<Option<String>>>);

/// What these tests ask of a schema besides [`Schema`]'s own.
trait SchemaExt {
    fn source(&self, table: &str) -> Source;
    fn dump(&mut self, table: &str) -> Dump;
    fn count(&mut self, table: &str) -> i64;
}

impl SchemaExt for Schema {
    fn source(&self, table: &str) -> Source {
        Source::parse(&pg_url(), Some(&self.table(table)))
    }

    /// Every row of `table` as text, in id order, with the column names and types: what "the
    /// table exactly as it was" compares.
    fn dump(&mut self, table: &str) -> Dump {
        let columns: Vec<String> = self
            .client
            .query(
                "SELECT column_name::text || ' ' || data_type::text FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                &[&self.name, &table],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT ARRAY(SELECT value FROM json_each_text(row_to_json(t))) \
                     FROM {}.{table} t ORDER BY id",
                    self.name
                ),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get::<_, Vec<Option<String>>>(0))
            .collect();
        (columns, rows)
    }

    fn count(&mut self, table: &str) -> i64 {
        self.client
            .query_one(&format!("SELECT count(*) FROM {}.{table}", self.name), &[])
            .unwrap()
            .get(0)
    }
}

/// The contract's columns as both stores hold them, row by row in id order (lat/lon as doubles).
type Row = (
    i64,
    Vec<Option<String>>,
    Option<f64>,
    Option<f64>,
    Option<String>,
);

const TEXT_COLUMNS: &str = "external_id, received_at, source, category, subcategory, \
                            municipality, settlement, address, status, resolved_at, text";

fn sqlite_rows(db: &Path) -> Vec<Row> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT id, {TEXT_COLUMNS}, lat, lon, import_hash FROM appeals ORDER BY id"
        ))
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            (1..=11).map(|i| r.get(i)).collect::<Result<_, _>>()?,
            r.get(12)?,
            r.get(13)?,
            r.get(14)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn pg_rows(schema: &mut Schema, table: &str) -> Vec<Row> {
    schema
        .client
        .query(
            &format!(
                "SELECT id, {TEXT_COLUMNS}, lat, lon, import_hash FROM {}.{table} ORDER BY id",
                schema.name
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                (1..=11).map(|i| r.get(i)).collect(),
                r.get(12),
                r.get(13),
                r.get(14),
            )
        })
        .collect()
}

/// What a view sees of the loaded appeals, row by row through the dictionaries' names, with
/// coordinates to the bit, and the quality figures.
fn view_of(a: &Appeals) -> (Vec<String>, String) {
    let name = |d: &teplokarta::data::Dict, c: Option<u32>| c.map(|c| d.name(c).to_owned());
    let rows = (0..a.len())
        .map(|i| {
            format!(
                "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:x} {:x} {:?} {}",
                a.id[i],
                a.received[i],
                a.resolved[i],
                name(&a.sources, Some(a.source[i])),
                name(&a.categories, Some(a.category[i])),
                name(&a.subcategories, a.subcategory[i]),
                name(&a.municipalities, a.municipality[i]),
                name(&a.settlements, a.settlement[i]),
                name(&a.addresses, a.address[i]),
                name(&a.statuses, Some(a.status[i])),
                a.placement[i],
                a.lon[i].to_bits(),
                a.lat[i].to_bits(),
                a.row_flags[i],
                i
            )
        })
        .collect();
    (rows, format!("{:?}", a.quality))
}

/// The summary without what must differ (the target's name, where the reports went, the time).
fn comparable(summary: &ImportSummary) -> ImportSummary {
    let mut s = summary.clone();
    s.target = PathBuf::new();
    s.elapsed = std::time::Duration::ZERO;
    for f in &mut s.files {
        f.report = f
            .report
            .as_ref()
            .map(|r| PathBuf::from(r.file_name().unwrap()));
    }
    s
}

fn import_to(
    inputs: &[&Path],
    target: &Source,
    report_dir: &Path,
) -> Result<ImportSummary, teplokarta::data::import::write::ImportError> {
    std::fs::create_dir_all(report_dir).unwrap();
    let inputs: Vec<PathBuf> = inputs.iter().map(|p| p.to_path_buf()).collect();
    import_into(
        &inputs,
        target,
        &ImportOptions {
            report_dir: Some(report_dir.to_owned()),
            ..ImportOptions::default()
        },
        &mut |_| {},
    )
}

/// A Windows-1251 export with `;`: multi-line quoted text, rows with every rejection reason,
/// positions out of range and at 0,0, offsets, an unreadable `resolved_at`, a row repeated with
/// a status that moved on (updated within the import), and the characters COPY's text format
/// interprets (backslash, tab, `\N`, CR).
const CP1251_EXPORT: &str = "Номер;Дата поступления;Категория;Подкатегория;Муниципальное образование;Адрес;Широта;Долгота;Статус;Дата ответа;Текст\n\
r1;01.03.2021 09:30;ЖКХ;Отопление;Тюмень;ул. Мира, 1;57,15;65,53;открыто;;\"Первая строка\nвторая строка\"\n\
r2;;ЖКХ;;Тюмень;ул. Мира, 2;57,15;65,53;открыто;;Нет даты\n\
r3;31.02.2021;ЖКХ;;Тюмень;ул. Мира, 3;57,15;65,53;открыто;;Невозможная дата\n\
r4;02.03.2021 10:00;;;Ишим;ул. Мира, 4;57,15;65,53;открыто;;Нет категории\n\
r5;2021-03-03T08:00:00+05:00;Дороги;Ямы;Ишим;ул. Мира, 5;abc;65,53;в работе;;C:\\путь\\N и \\\\ обратные\n\
r6;04.03.2021;Дороги;;Тобольск;ул. Мира, 6;95;65,53;решено;05.03.2021;вне диапазона\n\
r7;05.03.2021;Дороги;;Тобольск;ул. Мира, 7;0;0;решено;когда-нибудь;нулевые\tс табуляцией\n\
r8;06.03.2021 23:59:59;Дороги;;;ул. Мира, 8;57,2;65,6;отклонено;07.03.2021 10:00;\\N\n\
r1;01.03.2021 09:30;ЖКХ;Отопление;Тюмень;ул. Мира, 1;57,15;65,53;решено;02.03.2021;\"Первая строка\nвторая строка\"\n\
r9;07.03.2021;Благоустройство;;Тюмень;;57,123456789;65,987654321;;;\"кавычки \"\"внутри\"\"\r\nи CR\"\n";

/// GeoJSON points without external ids: matched by content on a re-import; one repeated.
const GEOJSON: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","geometry":{"type":"Point","coordinates":[65.5,57.1]},
  "properties":{"Дата поступления":"2021-04-01 08:00","Категория":"Дороги","Статус":"Open"}},
 {"type":"Feature","geometry":{"type":"Point","coordinates":[65.6,57.2]},
  "properties":{"Дата поступления":"2021-04-02","Категория":"ЖКХ","Статус":"Closed"}},
 {"type":"Feature","geometry":{"type":"Point","coordinates":[65.5,57.1]},
  "properties":{"Дата поступления":"2021-04-01 08:00","Категория":"Дороги","Статус":"Open"}},
 {"type":"Feature","geometry":null,
  "properties":{"Дата поступления":"","Категория":"ЖКХ","Статус":"Open"}}
]}"#;

fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let csv = write(dir, "export.csv", &encode(CP1251_EXPORT, WINDOWS_1251));
    let geojson = write(dir, "points.geojson", GEOJSON.as_bytes());
    (csv, geojson)
}

/// Imports `inputs` into a new SQLite file and a new PostgreSQL table and asserts that
/// everything a user sees is the same; returns both summaries.
fn import_both(
    inputs: &[&Path],
    db: &Path,
    pg: &Source,
    schema: &mut Schema,
    dir: &Path,
    step: &str,
) -> (ImportSummary, ImportSummary) {
    let sq_reports = dir.join(format!("reports-sqlite-{step}"));
    let pg_reports = dir.join(format!("reports-pg-{step}"));
    let sq = import_to(inputs, &Source::Sqlite(db.to_owned()), &sq_reports).unwrap();
    let pgs = import_to(inputs, pg, &pg_reports).unwrap();
    assert_eq!(comparable(&sq), comparable(&pgs), "{step}: summaries");
    // The same reports, byte for byte.
    for (a, b) in sq.files.iter().zip(&pgs.files) {
        match (&a.report, &b.report) {
            (Some(a), Some(b)) => {
                assert!(a.starts_with(&sq_reports) && b.starts_with(&pg_reports));
                assert_eq!(
                    std::fs::read(a).unwrap(),
                    std::fs::read(b).unwrap(),
                    "{step}: report {}",
                    a.display()
                );
            }
            (None, None) => {}
            other => panic!("{step}: reports differ: {other:?}"),
        }
    }
    // The same rows in the tables, and the same appeals loaded back through `Source`.
    assert_eq!(sqlite_rows(db), pg_rows(schema, "appeals"), "{step}: rows");
    let from_sqlite = Source::Sqlite(db.to_owned()).load().unwrap();
    let from_pg = pg.load().unwrap();
    assert_eq!(view_of(&from_sqlite), view_of(&from_pg), "{step}: appeals");
    (sq, pgs)
}

#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn the_same_files_give_the_same_appeals_summary_and_reports_as_sqlite_and_reimports_do_too() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, geojson) = inputs(dir.path());
    let db = dir.path().join("appeals.sqlite");
    let mut schema = Schema::new("tk_imp");
    let pg = schema.source("appeals");

    // First import: both targets are created.
    let (sq, pgs) = import_both(
        &[&csv, &geojson],
        &db,
        &pg,
        &mut schema,
        dir.path(),
        "first",
    );
    assert!(sq.created && pgs.created);
    let f = &pgs.files[0];
    assert_eq!(
        (f.rows, f.imported, f.updated, f.unchanged, f.rejected),
        (10, 6, 1, 0, 3)
    );
    assert_eq!(f.without_coordinates, 3);
    assert_eq!(f.resolved_unparsable, 1);
    let g = &pgs.files[1];
    assert_eq!((g.rows, g.imported, g.unchanged, g.rejected), (4, 2, 1, 1));
    assert_eq!(schema.count("appeals"), 8);
    // The report names file, line and field.
    let report = std::fs::read_to_string(f.report.as_ref().unwrap()).unwrap();
    assert!(
        report.contains("export.csv,4,Дата поступления,") && report.contains(",6,Категория,"),
        "{report}"
    );
    // The created table has the contract's columns in PostgreSQL's types.
    let (columns, _) = schema.dump("appeals");
    for wanted in [
        "id bigint",
        "external_id text",
        "received_at text",
        "lat double precision",
        "lon double precision",
        "status text",
        "import_hash text",
    ] {
        assert!(columns.iter().any(|c| c == wanted), "{wanted}: {columns:?}");
    }

    // The same files again: nothing new, nothing rewritten, on both.
    let (_, again) = import_both(
        &[&csv, &geojson],
        &db,
        &pg,
        &mut schema,
        dir.path(),
        "again",
    );
    assert!(!again.created);
    // (r1 comes twice, first as open then as resolved: each occurrence rewrites it again.)
    let f = &again.files[0];
    assert_eq!((f.imported, f.updated, f.unchanged), (0, 2, 5));
    assert_eq!(
        (
            again.files[1].imported,
            again.files[1].updated,
            again.files[1].unchanged
        ),
        (0, 0, 3)
    );
    assert_eq!(schema.count("appeals"), 8);

    // A status that moved on: the row is rewritten in place, with its id, on both.
    let changed = write(
        dir.path(),
        "later.csv",
        &encode(
            &CP1251_EXPORT.replace(
                "r8;06.03.2021 23:59:59;Дороги;;;ул. Мира, 8;57,2;65,6;отклонено",
                "r8;06.03.2021 23:59:59;Дороги;;;ул. Мира, 8;57,2;65,6;в работе",
            ),
            WINDOWS_1251,
        ),
    );
    let (_, later) = import_both(&[&changed], &db, &pg, &mut schema, dir.path(), "later");
    assert_eq!(
        (
            later.files[0].imported,
            later.files[0].updated,
            later.files[0].unchanged
        ),
        (0, 3, 4)
    );
    assert_eq!(schema.count("appeals"), 8);

    // Ids continue after the import's: another writer can insert with the identity default.
    let id: i64 = schema
        .client
        .query_one(
            &format!(
                "INSERT INTO {} (received_at, source, category, status) \
                 VALUES ('2021-05-01', 'pos', 'ЖКХ', 'new') RETURNING id",
                schema.table("appeals")
            ),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(id, 9);
}

#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn cli_import_into_postgres_prints_what_it_prints_for_sqlite_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, geojson) = inputs(dir.path());
    let schema = Schema::new("tk_imp");
    let table = schema.table("cli_appeals");
    let url = pg_url();
    let db = dir.path().join("cli.sqlite");
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let run = |target: &str| {
        run_cli(&[
            "import",
            csv.to_str().unwrap(),
            geojson.to_str().unwrap(),
            "--into",
            target,
            "--table",
            &table,
            "--report-dir",
            reports.to_str().unwrap(),
        ])
        .unwrap()
    };
    let sqlite_out = run(db.to_str().unwrap());
    let pg_out = run(&url);
    fn body(out: &str) -> Vec<&str> {
        out.lines().rev().skip(1).collect()
    }
    assert_eq!(body(&sqlite_out), body(&pg_out));
    let last = pg_out.lines().last().unwrap();
    let shown = Source::parse(&url, Some(&table)).to_string();
    assert!(
        last.starts_with(&format!("created {shown} in ")),
        "{last} / {shown}"
    );
    if let Some(password) = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, password)| password)
    {
        assert!(!pg_out.contains(password));
    }
    // And the `key=value` form reaches the same table: a re-import, all unchanged.
    let (userinfo, rest) = url.split_once("://").unwrap().1.split_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (hostport, db) = rest.split_once('/').unwrap();
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    let db = db.split('?').next().unwrap();
    let kv = format!(
        "host={host} port={port} dbname={db} user={user} password={password} sslmode=prefer"
    );
    let again = run(&kv);
    assert!(
        again.contains("imported 0 · updated 2 · unchanged 5"),
        "{again}"
    );
}

/// A table filled by a first import, for the failure tests.
fn filled(schema: &mut Schema, dir: &Path) -> (Source, Dump) {
    let (csv, geojson) = inputs(dir);
    let pg = schema.source("appeals");
    import_to(&[&csv, &geojson], &pg, &dir.join("r0")).unwrap();
    let before = schema.dump("appeals");
    assert_eq!(before.1.len(), 8);
    (pg, before)
}

/// `rows` good rows (more than one `COPY` chunk), then `tail` as the last line.
fn long_export(dir: &Path, name: &str, rows: usize, tail: &str) -> PathBuf {
    let mut text = String::from("Номер;Дата поступления;Категория;Широта;Долгота;Текст\n");
    for i in 0..rows {
        text.push_str(&format!(
            "n{i};{:02}.{:02}.2021 {:02}:{:02};ЖКХ;57,{i:05};65,{i:05};обращение {i}\n",
            i % 28 + 1,
            i % 12 + 1,
            i % 24,
            i % 60
        ));
    }
    text.push_str(tail);
    write(dir, name, text.as_bytes())
}

#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn a_failure_anywhere_leaves_the_table_exactly_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mut schema = Schema::new("tk_imp");
    let (pg, before) = filled(&mut schema, dir.path());
    let reports = dir.path().join("r1");

    // A good file, then one that breaks near its end (an unterminated quote), after more than
    // one COPY chunk of the first had gone to the server.
    let good = long_export(dir.path(), "good.csv", 45_000, "");
    let broken = long_export(
        dir.path(),
        "broken.csv",
        30_000,
        "n-bad;01.02.2021;ЖКХ;57,1;65,5;\"кавычка не закрыта\n",
    );
    let mut rows_seen = 0;
    let err = import_into(
        &[good.clone(), broken.clone()],
        &pg,
        &ImportOptions {
            report_dir: Some(reports.clone()),
            ..ImportOptions::default()
        },
        &mut |p| rows_seen = p.rows,
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("broken.csv") && message.contains("line 30002"),
        "{message}"
    );
    assert!(rows_seen >= 70_000, "{rows_seen}");
    assert_eq!(schema.dump("appeals"), before, "after a broken file");

    // A server-side failure in the middle of the copy: a CHECK constraint the 25,001st row
    // breaks (the first chunk of 20,000 rows was already copied).
    schema
        .client
        .batch_execute(&format!(
            "ALTER TABLE {} ADD CONSTRAINT no_forbidden CHECK (category <> 'ЗАПРЕТ')",
            schema.table("appeals")
        ))
        .unwrap();
    let before = schema.dump("appeals");
    let mut text = String::from("Номер;Дата поступления;Категория\n");
    for i in 0..30_000 {
        let category = if i == 25_000 {
            "ЗАПРЕТ"
        } else {
            "ЖКХ"
        };
        text.push_str(&format!("c{i};01.03.2021;{category}\n"));
    }
    let constrained = write(dir.path(), "constrained.csv", text.as_bytes());
    let err = import_to(&[&constrained], &pg, &reports).unwrap_err();
    let message = format!("{err}");
    assert!(
        message.contains("23514") && message.contains("no_forbidden"),
        "{message}"
    );
    let url = pg_url();
    let server = url.rsplit('@').next().unwrap();
    assert!(
        message.contains(server.split('?').next().unwrap()),
        "{message}"
    );
    assert_eq!(
        schema.dump("appeals"),
        before,
        "after a server-side failure"
    );

    // A value PostgreSQL cannot hold (a NUL character): the import stops naming the file and
    // the line, nothing is written.
    let nul = write(
        dir.path(),
        "nul.csv",
        b"\xD0\x9D\xD0\xBE\xD0\xBC\xD0\xB5\xD1\x80;received_at;category;text\nz1;01.03.2021;x;ok\nz2;01.03.2021;x;a\0b\n",
    );
    let err = import_to(&[&nul], &pg, &reports).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("nul.csv") && message.contains("line 3") && message.contains("text"),
        "{message}"
    );
    assert_eq!(schema.dump("appeals"), before, "after a NUL");

    // A table the failed import would have created is not left behind.
    let fresh = schema.source("never_made");
    import_to(&[&good, &broken], &fresh, &reports).unwrap_err();
    let exists: bool = schema
        .client
        .query_one(
            "SELECT count(*) > 0 FROM information_schema.tables \
             WHERE table_schema = $1 AND table_name = 'never_made'",
            &[&schema.name],
        )
        .unwrap()
        .get(0);
    assert!(!exists);

    // And the table still takes a good import afterwards (no lock or half state left).
    let summary = import_to(&[&good], &pg, &reports).unwrap();
    assert_eq!(summary.files[0].imported, 45_000);
}

#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn an_existing_table_without_a_contract_column_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, _) = inputs(dir.path());
    let mut schema = Schema::new("tk_imp");
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {} (id bigint PRIMARY KEY, external_id text, received_at text, \
             source text, category text, subcategory text, municipality text, address text, \
             lat float8, lon float8, status text, resolved_at text, text text);
             INSERT INTO {0} (id, received_at, source, category, status) \
             VALUES (1, '2021-01-01', 'pos', 'ЖКХ', 'new');",
            schema.table("partial")
        ))
        .unwrap();
    let before = schema.dump("partial");
    let err = import_to(&[&csv], &schema.source("partial"), &dir.path().join("r")).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("lacks the contract's column `settlement`")
            && message.contains("columns present: id, external_id")
            && message.contains("partial"),
        "{message}"
    );
    assert_eq!(schema.dump("partial"), before);

    // A table with the contract's columns but no `id` default (made by hand): the import gives
    // ids after the largest, as SQLite does, and adds `import_hash`.
    schema
        .client
        .batch_execute(&format!(
            "ALTER TABLE {} ADD COLUMN settlement text",
            schema.table("partial")
        ))
        .unwrap();
    let summary = import_to(&[&csv], &schema.source("partial"), &dir.path().join("r")).unwrap();
    assert!(!summary.created);
    assert_eq!(summary.files[0].imported, 6);
    let ids: Vec<i64> = schema
        .client
        .query(
            &format!("SELECT id FROM {} ORDER BY id", schema.table("partial")),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7]);
}

/// A table that keeps its points in a PostGIS `geom geometry(Point, 4326)` column (as the
/// viewer reads one) takes an import: loaded back, the same appeals as a `lat`/`lon` table given
/// the same files, bit for bit; a re-import adds nothing; a `geom` in another SRID is refused
/// and the table left alone.
#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn import_into_a_postgis_geom_table_gives_the_appeals_of_a_lat_lon_table() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, geojson) = inputs(dir.path());
    let mut schema = Schema::new("tk_imp");
    let columns = |geom: &str| {
        format!(
            "(id bigint PRIMARY KEY, external_id text, received_at text, source text, \
             category text, subcategory text, municipality text, settlement text, address text, \
             {geom}, status text, resolved_at text, text text)"
        )
    };
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {} {}; CREATE TABLE {} {}",
            schema.table("geo"),
            columns("geom geometry(Point, 4326)"),
            schema.table("mercator"),
            columns("geom geometry(Point, 3857)"),
        ))
        .unwrap();
    let files: [&Path; 2] = [&csv, &geojson];
    let plain = import_to(&files, &schema.source("plain"), &dir.path().join("r1")).unwrap();
    let geo = import_to(&files, &schema.source("geo"), &dir.path().join("r2")).unwrap();
    let imported = |s: &ImportSummary| s.files.iter().map(|f| f.imported).collect::<Vec<_>>();
    assert_eq!(imported(&plain), imported(&geo));
    let (a, b) = (
        schema.source("plain").load().unwrap(),
        schema.source("geo").load().unwrap(),
    );
    assert_eq!(view_of(&a), view_of(&b));
    assert!(b.quality.placed >= 5, "{:?}", b.quality);
    // The points are PostGIS points in 4326.
    let srids: Vec<i32> = schema
        .client
        .query(
            &format!(
                "SELECT DISTINCT ST_SRID(geom) FROM {} WHERE geom IS NOT NULL",
                schema.table("geo")
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(srids, [4326]);
    // Again: nothing new.
    let again = import_to(&files, &schema.source("geo"), &dir.path().join("r3")).unwrap();
    assert!(again.files.iter().all(|f| f.imported == 0), "{again:?}");
    assert_eq!(view_of(&schema.source("geo").load().unwrap()), view_of(&b));
    // Another SRID is not transformed on writing: refused, the table as it was.
    let before = schema.dump("mercator");
    let err = import_to(&files, &schema.source("mercator"), &dir.path().join("r4"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("SRID 3857"), "{err}");
    assert_eq!(schema.dump("mercator"), before);
}

/// `url` with `extra` (`key=value`) added to its query.
fn with_param(url: &str, extra: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{extra}")
}

#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn import_connects_like_the_viewer_tls_and_refused_logins() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, _) = inputs(dir.path());
    let mut schema = Schema::new("tk_imp");
    let table = schema.table("appeals");
    let reports = dir.path().join("r");
    let url = pg_url();

    // A wrong password: one error naming the server and the user, never the password.
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').unwrap();
    let user = userinfo.split(':').next().unwrap();
    let wrong = format!("{scheme}://{user}:not-the-Password-42@{host}");
    let err = import_to(&[&csv], &Source::parse(&wrong, Some(&table)), &reports).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&format!("refused user `{user}`"))
            && message.contains(&format!("postgres://{user}@"))
            && !message.contains("not-the-Password-42"),
        "{message}"
    );

    let Some(root) = std::env::var_os("TEPLOKARTA_PG_ROOT_CERT") else {
        eprintln!("TEPLOKARTA_PG_ROOT_CERT is not set: the TLS part is skipped");
        return;
    };
    let root = root.to_str().unwrap().replace('/', "%2F");
    // verify-full without the test CA (in no public or system store) refuses, and writes nothing.
    let err = import_to(
        &[&csv],
        &Source::parse(&with_param(&url, "sslmode=verify-full"), Some(&table)),
        &reports,
    )
    .unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");
    // With it, the import goes through an encrypted, verified connection.
    let verified = with_param(&url, &format!("sslmode=verify-full&sslrootcert={root}"));
    let summary = import_to(&[&csv], &Source::parse(&verified, Some(&table)), &reports).unwrap();
    assert!(summary.created);
    assert_eq!(schema.count("appeals"), 6);
}

/// File → Import…: the target field takes a PostgreSQL URL too; the import creates the table,
/// and "Open the database" connects the window to it.
#[test]
#[ignore = "needs PostgreSQL (TEPLOKARTA_PG_URL)"]
fn the_import_dialog_imports_into_postgres_and_opens_the_table() {
    use common::ui::{harness, wait_idle};
    use egui_kittest::kittest::Queryable as _;
    use teplokarta::ui::Lang;

    let (_db_dir, db) = common::demo_db(300, 53);
    let dir = tempfile::tempdir().unwrap();
    // Few columns, so that the dialog's preview leaves its Import button on screen.
    let text = "Номер;Дата поступления;Рубрика;Статус\r\n\
                1;01.03.2021 09:30;ЖКХ;Решено\r\n\
                2;02.03.2021 14:05;Дороги;В работе\r\n\
                3;31.02.2021 10:00;ЖКХ;Открыто\r\n";
    let csv = write(dir.path(), "export.csv", &encode(text, WINDOWS_1251));
    let mut schema = Schema::new("tk_imp");
    // The dialog has no table field: `appeals`, here found (and created) in the test's schema.
    let url = with_param(
        &pg_url(),
        &format!("options=-csearch_path%3D{}", schema.name),
    );

    let mut harness = harness(&db, Lang::En);
    wait_idle(&mut harness);
    harness.get_by_label("File").click();
    harness.run();
    harness.get_by_label("Import…").click();
    harness.run();
    for (role, label, text) in [
        (
            egui::accesskit::Role::MultilineTextInput,
            "Files",
            csv.display().to_string(),
        ),
        (
            egui::accesskit::Role::TextInput,
            "Into database",
            url.clone(),
        ),
    ] {
        harness.get_by_role_and_label(role, label).focus();
        harness.run();
        harness.get_by_role_and_label(role, label).type_text(&text);
        harness.run();
    }
    harness.get_by_label("Preview").click();
    harness.step();
    wait_idle(&mut harness);
    {
        let d = harness.state().as_ref().unwrap().import_dialog().unwrap();
        assert_eq!(d.preview_error, None);
        assert_eq!(d.target, url);
        assert!(d.preview.is_some(), "no preview");
    }
    harness.get_by_label("Import").click();
    harness.step();
    wait_idle(&mut harness);
    {
        let d = harness.state().as_ref().unwrap().import_dialog().unwrap();
        let summary = d.result.clone().unwrap().unwrap();
        assert_eq!(summary.files[0].imported, 2);
    }
    harness.get_by_label_contains("imported 2");
    harness.get_by_label_contains("rejected 1");
    assert_eq!(schema.count("appeals"), 2);
    // The report went next to the input.
    assert!(dir.path().join("export.csv.rejected.csv").is_file());
    harness.get_by_label("Open the database").click();
    harness.step();
    wait_idle(&mut harness);
    let app = harness.state().as_ref().unwrap();
    assert!(app.dataset().unwrap().source.is_postgres());
    assert_eq!(app.view().unwrap().summary.total, 2);
}
