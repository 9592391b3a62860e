//! `teplokarta import` end to end (`teplokarta::data::import::write::import_files` and the CLI run
//! in-process): every fixture is written here, in a temporary directory — a Windows-1251 export
//! with `;` and a multi-line quoted text, KOI8-R and UTF-8-BOM files with one coordinates column,
//! a Boston-style US export, an .xlsx with two sheets, GeoJSON — and each test checks what landed
//! in the target database with SQL, what the summary says, that the viewer's `AppealStore` loads
//! the result, re-imports without duplicates, the rejected-rows report (physical line numbers),
//! that a failed import leaves the target (and the inputs) byte for byte as they were, and the
//! column mapping (`--map`, `--save-mapping`, `--mapping`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{encode, run_cli, write};
use encoding_rs::{KOI8_R, WINDOWS_1251};
use rusqlite::OpenFlags;
use teplokarta::data::import::parse::{Field, Mapping};
use teplokarta::data::import::read::{ReadOptions, SourceKind};
use teplokarta::data::import::write::{ImportError, ImportOptions, ImportSummary, import_files};
use teplokarta::data::{AppealStore, Appeals, CREATE_APPEALS_SQL, LoadOptions, Placement};

// -------------------------------------------------------------------------------------------
// Helpers
// -------------------------------------------------------------------------------------------

fn import_with(
    inputs: &[&Path],
    target: &Path,
    options: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let inputs: Vec<PathBuf> = inputs.iter().map(|p| p.to_path_buf()).collect();
    import_files(&inputs, target, options, &mut |_| {})
}

fn import(inputs: &[&Path], target: &Path) -> ImportSummary {
    import_with(inputs, target, &ImportOptions::default()).unwrap()
}

fn open_ro(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn count(db: &Path) -> i64 {
    open_ro(db)
        .query_row("SELECT COUNT(*) FROM appeals", [], |r| r.get(0))
        .unwrap()
}

/// One text column of the row with this `external_id`.
fn text_of(db: &Path, external_id: &str, column: &str) -> Option<String> {
    open_ro(db)
        .query_row(
            &format!("SELECT {column} FROM appeals WHERE external_id = ?1"),
            [external_id],
            |r| r.get(0),
        )
        .unwrap()
}

/// (lat, lon) of the row with this `external_id`, failing unless both are SQL REALs or NULLs.
fn position_of(db: &Path, external_id: &str) -> Option<(f64, f64)> {
    let (lat, lon, lat_type, lon_type): (Option<f64>, Option<f64>, String, String) = open_ro(db)
        .query_row(
            "SELECT lat, lon, typeof(lat), typeof(lon) FROM appeals WHERE external_id = ?1",
            [external_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    match (lat, lon) {
        (Some(lat), Some(lon)) => {
            assert_eq!((lat_type.as_str(), lon_type.as_str()), ("real", "real"));
            Some((lat, lon))
        }
        (None, None) => None,
        other => panic!("only one of lat/lon for {external_id}: {other:?}"),
    }
}

/// Every row as text (NULL as "∅"), ordered by `id`, without `id` and `import_hash`.
fn dump(db: &Path) -> Vec<Vec<String>> {
    let conn = open_ro(db);
    let mut stmt = conn
        .prepare(
            "SELECT external_id, received_at, source, category, subcategory, municipality,
                    settlement, address, lat, lon, status, resolved_at, text
             FROM appeals ORDER BY id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        (0..13)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => "∅".to_owned(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Real(f) => format!("{f}"),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    rusqlite::types::ValueRef::Blob(_) => "<blob>".to_owned(),
                })
            })
            .collect::<Result<Vec<String>, rusqlite::Error>>()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn load(db: &Path) -> Appeals {
    AppealStore::open(db, &LoadOptions::default())
        .unwrap()
        .load()
        .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn assert_position(db: &Path, external_id: &str, lat: f64, lon: f64) {
    let (got_lat, got_lon) =
        position_of(db, external_id).unwrap_or_else(|| panic!("{external_id}: no position"));
    assert!(
        close(got_lat, lat) && close(got_lon, lon),
        "{external_id}: lat {got_lat}, lon {got_lon}; expected lat {lat}, lon {lon}"
    );
}

fn csv_kind(summary: &ImportSummary) -> (&'static str, bool, u8) {
    common::csv_kind(summary.files[0].kind.as_ref().unwrap())
}

/// The rejected-rows report as records (header included).
fn report_records(path: &Path) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// A database with the contract's table and three appeals, as another tool made it.
fn existing_target(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "{CREATE_APPEALS_SQL}
         INSERT INTO appeals (external_id, received_at, source, category, lat, lon, status)
         VALUES ('old-1', '2020-01-01T10:00:00', 'pos', 'ЖКХ', 57.1, 65.5, 'new'),
                ('old-2', '2020-01-02T11:00:00', 'social', 'Дороги', NULL, NULL, 'resolved'),
                (NULL, '2020-01-03', 'pos', 'Прочее', 57.2, 65.6, 'rejected');"
    ))
    .unwrap();
}

fn journal_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-journal");
    PathBuf::from(p)
}

// -------------------------------------------------------------------------------------------
// 1. Windows-1251, `;`, Russian headers
// -------------------------------------------------------------------------------------------

/// The feedback platform's export as Excel saves it: CRLF records, a line feed inside a quoted
/// cell.
const CP1251_EXPORT: &str = "Номер;Дата поступления;Категория;Подкатегория;Муниципальное образование;Населённый пункт;Адрес;Широта;Долгота;Статус;Источник;Текст\r\n\
1001;01.03.2021 09:30;ЖКХ;Отопление;г. Тюмень;Тюмень;ул. Мира, 3;57,153033;65,534328;Решено;pos;\"Холодные батареи; в квартире +15\nуже неделю, «управляйка» не отвечает\"\r\n\
1002;02.03.2021 14:05;Дороги;Ямы;Тюменский район;п. Московский;ул. Ленина, 5;57,1012;65,4321;В работе;social;Яма на дороге\r\n\
1003;15.03.2021 00:00;ЖКХ;Вывоз мусора;г. Тюмень;Тюмень;ул. Республики, 10;57,15;65,53;На контроле;pos;Не вывозят мусор\r\n\
1004;31.12.2021 23:59;Благоустройство;;Ишимский район;с. Стрехнино;;;;Решено;pos;Нет освещения на улице\r\n";

#[test]
fn windows_1251_semicolon_export() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "export.csv",
        &encode(CP1251_EXPORT, WINDOWS_1251),
    );
    let db = dir.path().join("appeals.sqlite");
    let summary = import(&[&input], &db);

    assert!(summary.created);
    let file = &summary.files[0];
    assert_eq!(csv_kind(&summary), ("windows-1251", false, b';'));
    assert_eq!(
        (
            file.rows,
            file.imported,
            file.updated,
            file.unchanged,
            file.rejected,
            file.without_coordinates
        ),
        (4, 4, 0, 0, 0, 1)
    );
    assert_eq!(file.report, None);
    let mapped: Vec<(&str, &str)> = Field::ALL
        .iter()
        .filter_map(|f| file.mapping.get(*f).map(|c| (f.key(), c)))
        .collect();
    assert_eq!(
        mapped,
        [
            ("external_id", "Номер"),
            ("received_at", "Дата поступления"),
            ("source", "Источник"),
            ("category", "Категория"),
            ("subcategory", "Подкатегория"),
            ("municipality", "Муниципальное образование"),
            ("settlement", "Населённый пункт"),
            ("address", "Адрес"),
            ("lat", "Широта"),
            ("lon", "Долгота"),
            ("status", "Статус"),
            ("text", "Текст"),
        ]
    );

    assert_eq!(count(&db), 4);
    let received: Vec<(String, String)> = {
        let conn = open_ro(&db);
        let mut stmt = conn
            .prepare("SELECT external_id, received_at FROM appeals ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        received,
        [
            ("1001".to_owned(), "2021-03-01T09:30:00".to_owned()),
            ("1002".to_owned(), "2021-03-02T14:05:00".to_owned()),
            ("1003".to_owned(), "2021-03-15T00:00:00".to_owned()),
            ("1004".to_owned(), "2021-12-31T23:59:00".to_owned()),
        ]
    );
    assert_eq!(
        text_of(&db, "1001", "text").as_deref(),
        Some("Холодные батареи; в квартире +15\nуже неделю, «управляйка» не отвечает")
    );
    assert_position(&db, "1001", 57.153033, 65.534328);
    assert_position(&db, "1002", 57.1012, 65.4321);
    assert_position(&db, "1003", 57.15, 65.53);
    assert_eq!(position_of(&db, "1004"), None);
    for (id, status) in [
        ("1001", "resolved"),
        ("1002", "in_progress"),
        ("1003", "На контроле"),
        ("1004", "resolved"),
    ] {
        assert_eq!(text_of(&db, id, "status").as_deref(), Some(status), "{id}");
    }
    assert_eq!(text_of(&db, "1002", "source").as_deref(), Some("social"));
    assert_eq!(
        text_of(&db, "1002", "municipality").as_deref(),
        Some("Тюменский район")
    );
    assert_eq!(
        text_of(&db, "1002", "settlement").as_deref(),
        Some("п. Московский")
    );
    assert_eq!(
        text_of(&db, "1001", "address").as_deref(),
        Some("ул. Мира, 3")
    );
    assert_eq!(text_of(&db, "1002", "subcategory").as_deref(), Some("Ямы"));
    assert_eq!(text_of(&db, "1004", "subcategory"), None);
    assert_eq!(text_of(&db, "1004", "address"), None);

    // The window opens it: every row, three on the map, nothing unparsable.
    let appeals = load(&db);
    assert_eq!(appeals.len(), 4);
    let q = &appeals.quality;
    assert_eq!(
        (
            q.rows,
            q.placed,
            q.no_coordinates,
            q.bad_coordinates(),
            q.received_unparsable,
            q.required_null
        ),
        (4, 3, 1, 0, 0, 0)
    );
    let statuses: Vec<&str> = appeals
        .status
        .iter()
        .map(|&s| appeals.statuses.name(s))
        .collect();
    assert_eq!(
        statuses,
        ["resolved", "in_progress", "На контроле", "resolved"]
    );
    assert!(close(appeals.lat[0], 57.153033) && close(appeals.lon[0], 65.534328));
    assert_eq!(appeals.placement[3], Placement::Missing);

    // The CLI's report names the detected encoding and delimiter.
    let db2 = dir.path().join("cli.sqlite");
    let out = run_cli(&[
        "import",
        input.to_str().unwrap(),
        "--into",
        db2.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.contains("windows-1251") && out.contains("delimiter: 59"),
        "{out}"
    );
    assert!(out.contains("rows 4 · imported 4 · updated 0"), "{out}");
    assert_eq!(dump(&db2), dump(&db));
}

// -------------------------------------------------------------------------------------------
// 2. KOI8-R and UTF-8 with a BOM, one «Координаты» column
// -------------------------------------------------------------------------------------------

#[test]
fn koi8r_and_utf8_bom_with_one_coordinates_column() {
    let dir = tempfile::tempdir().unwrap();
    let koi = write(
        dir.path(),
        "koi.csv",
        &encode(
            "Номер;Дата поступления;Категория;Координаты;Текст\n\
             k1;01.03.2021;ЖКХ;57,15, 65,53;Нет горячей воды в доме\n\
             k2;02.03.2021;Дороги;57.16, 65.54;Яма на проезжей части\n\
             k3;03.03.2021;Благоустройство;POINT(65.55 57.17);Не убран снег во дворе\n\
             k4;04.03.2021;Благоустройство;57,180 65,560;Сломана скамейка\n",
            KOI8_R,
        ),
    );
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(
        "Номер,Дата поступления,Категория,Координаты\r\n\
         b1,2021-03-01,ЖКХ,\"57.15, 65.53\"\r\n\
         b2,2021-03-02,Дороги,\"57,16, 65,54\"\r\n\
         b3,2021-03-03,Благоустройство,POINT(65.55 57.17)\r\n\
         b4,2021-03-04,Прочее,\"(57.18, 65.56)\"\r\n"
            .as_bytes(),
    );
    let bom = write(dir.path(), "bom.csv", &bom);

    let db = dir.path().join("koi.sqlite");
    let summary = import(&[&koi], &db);
    assert_eq!(csv_kind(&summary), ("KOI8-R", false, b';'));
    assert_eq!(
        summary.files[0].mapping.get(Field::LatLon),
        Some("Координаты")
    );
    assert_eq!(
        (
            summary.files[0].imported,
            summary.files[0].without_coordinates
        ),
        (4, 0)
    );
    assert_eq!(text_of(&db, "k1", "category").as_deref(), Some("ЖКХ"));
    assert_eq!(
        text_of(&db, "k3", "text").as_deref(),
        Some("Не убран снег во дворе")
    );
    assert_position(&db, "k1", 57.15, 65.53);
    assert_position(&db, "k2", 57.16, 65.54);
    assert_position(&db, "k3", 57.17, 65.55);
    assert_position(&db, "k4", 57.18, 65.56);

    let db = dir.path().join("bom.sqlite");
    let summary = import(&[&bom], &db);
    assert_eq!(csv_kind(&summary), ("UTF-8", true, b','));
    // The BOM is not part of the first header, so «Номер» is recognised.
    assert_eq!(summary.files[0].headers[0], "Номер");
    assert_eq!(
        summary.files[0].mapping.get(Field::ExternalId),
        Some("Номер")
    );
    assert_eq!(summary.files[0].imported, 4);
    assert_position(&db, "b1", 57.15, 65.53);
    assert_position(&db, "b2", 57.16, 65.54);
    assert_position(&db, "b3", 57.17, 65.55);
    assert_position(&db, "b4", 57.18, 65.56);
    assert_eq!(
        text_of(&db, "b2", "received_at").as_deref(),
        Some("2021-03-02")
    );

    // Read back by the viewer: latitude north of 57, longitude east of 65 (Tyumen).
    let appeals = load(&db);
    assert_eq!(appeals.quality.placed, 4);
    for i in 0..appeals.len() {
        assert!(
            (57.0..58.0).contains(&appeals.lat[i]) && (65.0..66.0).contains(&appeals.lon[i]),
            "row {i}: lat {} lon {}",
            appeals.lat[i],
            appeals.lon[i]
        );
    }
}

// -------------------------------------------------------------------------------------------
// 3. A US export (Boston 311)
// -------------------------------------------------------------------------------------------

#[test]
fn boston_style_us_export() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "boston.csv",
        b"CASE_ENQUIRY_ID,OPEN_DT,CLOSED_DT,OnTime_Status,CASE_STATUS,REASON,TYPE,neighborhood,LATITUDE,LONGITUDE,Source\n\
101003000001,01/05/2021 12:00:00 AM,01/05/2021 12:00:00 PM,ONTIME,Closed,Street Lights,Street Light Outages,\"Allston, Brighton\",42.3594,-71.1294,Constituent Call\n\
101003000002,01/05/2021 12:30:15 PM,,OVERDUE,Open,Highway Maintenance,Request for Pothole Repair,Dorchester,42.3016,-71.0674,Citizens Connect App\n\
101003000003,02/28/2021 11:59:59 PM,03/01/2021 12:00:01 AM,ONTIME,Closed,Sanitation,Missed Trash,Roxbury,42.3152,-71.0917,Self Service\n\
101003000004,07/04/2021 01:02:03 AM,,ONTIME,Open,Enforcement & Abandoned Vehicles,Parking Enforcement,South End,42.3389,-71.0765,Employee Generated\n",
    );
    let db = dir.path().join("boston.sqlite");
    let summary = import(&[&input], &db);
    let file = &summary.files[0];
    assert_eq!(csv_kind(&summary), ("UTF-8", false, b','));
    assert_eq!((file.rows, file.imported, file.rejected), (4, 4, 0));
    assert_eq!(file.resolved_unparsable, 0);
    assert_eq!(file.mapping.get(Field::Status), Some("CASE_STATUS"));
    assert_eq!(file.mapping.get(Field::ResolvedAt), Some("CLOSED_DT"));

    let expect = [
        (
            "101003000001",
            "2021-01-05T00:00:00",
            Some("2021-01-05T12:00:00"),
            "resolved",
        ),
        ("101003000002", "2021-01-05T12:30:15", None, "new"),
        (
            "101003000003",
            "2021-02-28T23:59:59",
            Some("2021-03-01T00:00:01"),
            "resolved",
        ),
        ("101003000004", "2021-07-04T01:02:03", None, "new"),
    ];
    for (id, received, resolved, status) in expect {
        assert_eq!(
            text_of(&db, id, "received_at").as_deref(),
            Some(received),
            "{id}"
        );
        assert_eq!(text_of(&db, id, "resolved_at").as_deref(), resolved, "{id}");
        assert_eq!(text_of(&db, id, "status").as_deref(), Some(status), "{id}");
    }
    assert_eq!(
        text_of(&db, "101003000001", "category").as_deref(),
        Some("Street Lights")
    );
    assert_eq!(
        text_of(&db, "101003000001", "subcategory").as_deref(),
        Some("Street Light Outages")
    );
    assert_eq!(
        text_of(&db, "101003000001", "settlement").as_deref(),
        Some("Allston, Brighton")
    );
    assert_eq!(
        text_of(&db, "101003000002", "source").as_deref(),
        Some("Citizens Connect App")
    );
    assert_position(&db, "101003000002", 42.3016, -71.0674);
    let appeals = load(&db);
    assert_eq!(appeals.quality.placed, 4);
    assert_eq!(appeals.quality.resolved_unparsable, 0);
}

// -------------------------------------------------------------------------------------------
// 4. Excel: two sheets, `--sheet`
// -------------------------------------------------------------------------------------------

fn workbook(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let date_time = Format::new().set_num_format("dd.mm.yyyy hh:mm");
    let date_only = Format::new().set_num_format("dd.mm.yyyy");

    let summary = wb.add_worksheet();
    summary.set_name("Сводка").unwrap();
    summary.write_string(0, 0, "Дата поступления").unwrap();
    summary.write_string(0, 1, "Категория").unwrap();
    summary
        .write_datetime_with_format(
            1,
            0,
            ExcelDateTime::from_ymd(2020, 5, 5).unwrap(),
            &date_only,
        )
        .unwrap();
    summary.write_string(1, 1, "Итого").unwrap();

    let sheet = wb.add_worksheet();
    sheet.set_name("Обращения").unwrap();
    // Row 1 (0-based) is the header: the first non-empty row.
    for (col, header) in [
        "Номер",
        "Дата поступления",
        "Категория",
        "Широта",
        "Долгота",
        "Статус",
        "Текст",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(1, col as u16, *header).unwrap();
    }
    // 101: a date-time cell, numbers.
    sheet.write_number(2, 0, 101).unwrap();
    sheet
        .write_datetime_with_format(
            2,
            1,
            ExcelDateTime::from_ymd(2021, 3, 1)
                .unwrap()
                .and_hms(9, 30, 0)
                .unwrap(),
            &date_time,
        )
        .unwrap();
    sheet.write_string(2, 2, "ЖКХ").unwrap();
    sheet.write_number(2, 3, 57.153033).unwrap();
    sheet.write_number(2, 4, 65.534328).unwrap();
    sheet.write_string(2, 5, "Решено").unwrap();
    sheet.write_string(2, 6, "Нет отопления").unwrap();
    // 102: a date-only cell.
    sheet.write_number(3, 0, 102).unwrap();
    sheet
        .write_datetime_with_format(
            3,
            1,
            ExcelDateTime::from_ymd(2021, 3, 2).unwrap(),
            &date_only,
        )
        .unwrap();
    sheet.write_string(3, 2, "Дороги").unwrap();
    sheet.write_number(3, 3, 57.1).unwrap();
    sheet.write_number(3, 4, 65.4).unwrap();
    sheet.write_string(3, 5, "В работе").unwrap();
    // 103: text everywhere (a date as typed, decimal commas).
    sheet.write_string(4, 0, "103").unwrap();
    sheet.write_string(4, 1, "03.03.2021 10:00").unwrap();
    sheet.write_string(4, 2, "Благоустройство").unwrap();
    sheet.write_string(4, 3, "57,2").unwrap();
    sheet.write_string(4, 4, "65,6").unwrap();
    sheet.write_string(4, 5, "Новое").unwrap();
    // 104: no category: rejected (sheet row 6).
    sheet.write_number(5, 0, 104).unwrap();
    sheet
        .write_datetime_with_format(
            5,
            1,
            ExcelDateTime::from_ymd(2021, 3, 4)
                .unwrap()
                .and_hms(8, 0, 0)
                .unwrap(),
            &date_time,
        )
        .unwrap();
    sheet.write_string(5, 5, "Новое").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn excel_sheet_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("appeals.xlsx");
    workbook(&input);
    let db = dir.path().join("xlsx.sqlite");
    let options = ImportOptions {
        read: ReadOptions {
            sheet: Some("Обращения".to_owned()),
            ..ReadOptions::default()
        },
        ..ImportOptions::default()
    };
    let summary = import_with(&[&input], &db, &options).unwrap();
    let file = &summary.files[0];
    assert_eq!(
        file.kind,
        Some(SourceKind::Excel {
            sheet: "Обращения".to_owned()
        })
    );
    assert_eq!((file.rows, file.imported, file.rejected), (4, 3, 1));
    assert_eq!(count(&db), 3);
    assert_eq!(
        text_of(&db, "101", "received_at").as_deref(),
        Some("2021-03-01T09:30:00")
    );
    assert_eq!(
        text_of(&db, "102", "received_at").as_deref(),
        Some("2021-03-02T00:00:00")
    );
    assert_eq!(
        text_of(&db, "103", "received_at").as_deref(),
        Some("2021-03-03T10:00:00")
    );
    assert_position(&db, "101", 57.153033, 65.534328);
    assert_position(&db, "102", 57.1, 65.4);
    assert_position(&db, "103", 57.2, 65.6);
    assert_eq!(text_of(&db, "101", "status").as_deref(), Some("resolved"));
    assert_eq!(
        text_of(&db, "102", "status").as_deref(),
        Some("in_progress")
    );
    assert_eq!(text_of(&db, "103", "status").as_deref(), Some("new"));
    assert_eq!(
        text_of(&db, "101", "text").as_deref(),
        Some("Нет отопления")
    );
    // The rejected row is reported with its sheet row number.
    let report = file.report.clone().unwrap();
    let records = report_records(&report);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[1][1], "6");
    assert_eq!(records[1][2], "Категория");

    // Via the CLI, `--sheet` likewise; without it, the first sheet.
    let db2 = dir.path().join("cli.sqlite");
    run_cli(&[
        "import",
        input.to_str().unwrap(),
        "--into",
        db2.to_str().unwrap(),
        "--sheet",
        "Обращения",
    ])
    .unwrap();
    assert_eq!(dump(&db2), dump(&db));
    let db3 = dir.path().join("first.sqlite");
    let summary = import(&[&input], &db3);
    assert_eq!(
        summary.files[0].kind,
        Some(SourceKind::Excel {
            sheet: "Сводка".to_owned()
        })
    );
    assert_eq!(
        dump(&db3),
        [vec![
            "∅",
            "2020-05-05T00:00:00",
            "import",
            "Итого",
            "∅",
            "∅",
            "∅",
            "∅",
            "∅",
            "∅",
            "unknown",
            "∅",
            "∅"
        ]]
    );
    // A sheet that is not there: an error listing the sheets, no database left.
    let db4 = dir.path().join("none.sqlite");
    let err = run_cli(&[
        "import",
        input.to_str().unwrap(),
        "--into",
        db4.to_str().unwrap(),
        "--sheet",
        "Нет такого",
    ])
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("Нет такого") && message.contains("Сводка, Обращения"),
        "{message}"
    );
    assert!(!db4.exists());
}

// -------------------------------------------------------------------------------------------
// 5. GeoJSON
// -------------------------------------------------------------------------------------------

#[test]
fn geojson_points() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "appeals.geojson",
        r#"{"type":"FeatureCollection","features":[
  {"type":"Feature","geometry":{"type":"Point","coordinates":[65.534328,57.153033]},
   "properties":{"id":"g1","created_at":"2021-03-01T09:30:00+05:00","category":"ЖКХ","status":"Open"}},
  {"type":"Feature","geometry":{"type":"Point","coordinates":[69.4667,56.1]},
   "properties":{"id":"g2","created_at":"2021-03-02","category":"Дороги","status":"closed","extra":5}},
  {"type":"Feature","geometry":null,
   "properties":{"id":"g3","created_at":"03.03.2021 10:00","category":"Прочее","status":"в работе"}}
]}"#
        .as_bytes(),
    );
    let db = dir.path().join("geo.sqlite");
    let summary = import(&[&input], &db);
    let file = &summary.files[0];
    assert_eq!(file.kind, Some(SourceKind::GeoJson));
    assert_eq!(
        (file.rows, file.imported, file.without_coordinates),
        (3, 3, 1)
    );
    assert_position(&db, "g1", 57.153033, 65.534328);
    assert_position(&db, "g2", 56.1, 69.4667);
    assert_eq!(position_of(&db, "g3"), None);
    for (id, received, category, status) in [
        ("g1", "2021-03-01T09:30:00+05:00", "ЖКХ", "new"),
        ("g2", "2021-03-02", "Дороги", "resolved"),
        ("g3", "2021-03-03T10:00:00", "Прочее", "in_progress"),
    ] {
        assert_eq!(text_of(&db, id, "received_at").as_deref(), Some(received));
        assert_eq!(text_of(&db, id, "category").as_deref(), Some(category));
        assert_eq!(text_of(&db, id, "status").as_deref(), Some(status));
        assert_eq!(text_of(&db, id, "source").as_deref(), Some("import"));
    }
    let appeals = load(&db);
    assert_eq!(
        (appeals.quality.placed, appeals.quality.no_coordinates),
        (2, 1)
    );
}

// -------------------------------------------------------------------------------------------
// 6. Re-import
// -------------------------------------------------------------------------------------------

const WITH_IDS: &str = "Номер;Дата поступления;Категория;Статус;Широта;Долгота\n\
r1;01.03.2021 10:00;ЖКХ;Открыто;57,15;65,53\n\
r2;02.03.2021 11:00;Дороги;В работе;57,16;65,54\n\
r3;03.03.2021 12:00;ЖКХ;В работе;57,17;65,55\n\
r4;04.03.2021 13:00;Благоустройство;Решено;;\n\
r5;05.03.2021 14:00;Прочее;Отклонено;57,18;65,56\n";

#[test]
fn reimport_by_external_id_and_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "ids.csv", WITH_IDS.as_bytes());
    let db = dir.path().join("re.sqlite");

    let first = import(&[&input], &db);
    assert!(first.created);
    assert_eq!((first.files[0].imported, first.files[0].unchanged), (5, 0));
    assert_eq!(count(&db), 5);
    let before = dump(&db);
    let id_of_r3: i64 = open_ro(&db)
        .query_row("SELECT id FROM appeals WHERE external_id = 'r3'", [], |r| {
            r.get(0)
        })
        .unwrap();

    // The same file again: nothing new, nothing rewritten.
    let again = import(&[&input], &db);
    assert!(!again.created);
    let f = &again.files[0];
    assert_eq!(
        (f.rows, f.imported, f.updated, f.unchanged, f.rejected),
        (5, 0, 0, 5, 0)
    );
    assert_eq!(count(&db), 5);
    assert_eq!(dump(&db), before);

    // r3's status moved on: one row rewritten in place.
    let changed = write(
        dir.path(),
        "ids-later.csv",
        WITH_IDS
            .replace(
                "r3;03.03.2021 12:00;ЖКХ;В работе",
                "r3;03.03.2021 12:00;ЖКХ;Решено",
            )
            .as_bytes(),
    );
    let later = import(&[&changed], &db);
    let f = &later.files[0];
    assert_eq!((f.imported, f.updated, f.unchanged), (0, 1, 4));
    assert_eq!(count(&db), 5);
    assert_eq!(text_of(&db, "r3", "status").as_deref(), Some("resolved"));
    let id_after: i64 = open_ro(&db)
        .query_row("SELECT id FROM appeals WHERE external_id = 'r3'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(id_after, id_of_r3);
    // And again: now unchanged.
    let f = &import(&[&changed], &db).files[0];
    assert_eq!((f.imported, f.updated, f.unchanged), (0, 0, 5));

    // No external id: matched by content.
    let no_ids = write(
        dir.path(),
        "no-ids.csv",
        "Дата поступления;Категория;Адрес;Текст\n\
         01.03.2021 10:00;ЖКХ;ул. Мира, 1;Нет воды\n\
         01.03.2021 10:00;ЖКХ;ул. Мира, 2;Нет воды\n\
         02.03.2021;Дороги;ул. Мира, 1;Яма\n\
         03.03.2021;Дороги;;\n"
            .as_bytes(),
    );
    let db2 = dir.path().join("hash.sqlite");
    let f = &import(&[&no_ids], &db2).files[0];
    assert_eq!((f.imported, f.unchanged), (4, 0));
    let f = &import(&[&no_ids], &db2).files[0];
    assert_eq!((f.rows, f.imported, f.updated, f.unchanged), (4, 0, 0, 4));
    assert_eq!(count(&db2), 4);
    let duplicates: i64 = open_ro(&db2)
        .query_row(
            "SELECT COUNT(*) FROM (SELECT import_hash FROM appeals GROUP BY import_hash HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(duplicates, 0);

    // Both files in one import into the first target: the id file is unchanged, the other new.
    let both = import(&[&changed, &no_ids], &db);
    assert_eq!((both.files[0].unchanged, both.files[1].imported), (5, 4));
    assert_eq!(count(&db), 9);
}

// -------------------------------------------------------------------------------------------
// 7. Rejected rows and the report
// -------------------------------------------------------------------------------------------

/// Physical lines: the header is 1, record r1 spans 2–3, a blank line is 10, record r9 spans
/// 12–14.
const WITH_BAD_ROWS: &str = "Номер;Дата поступления;Категория;Адрес;Широта;Долгота;Текст\n\
r1;01.03.2021 09:00;ЖКХ;ул. Мира, 1;57,15;65,53;\"Первая строка\nвторая строка\"\n\
r2;;ЖКХ;ул. Мира, 2;57,15;65,53;Нет даты\n\
r3;31.02.2021;ЖКХ;ул. Мира, 3;57,15;65,53;Невозможная дата\n\
r4;02.03.2021 10:00;;ул. Мира, 4;57,15;65,53;Нет категории\n\
r5;03.03.2021;Дороги;ул. Мира, 5;abc;65,53;Широта не число\n\
r6;04.03.2021;Дороги;ул. Мира, 6;95;65,53;Широта вне диапазона\n\
r7;05.03.2021;Дороги;ул. Мира, 7;0;0;Нулевые координаты\n\
\n\
r8;06.03.2021;Дороги;ул. Мира, 8;57,2;65,6;Хорошая\n\
r9;;ЖКХ;ул. Мира, 9;;;\"многострочный\n\nбез даты\"\n\
r10;07.03.2021;  ;ул. Мира, 10;57,2;65,6;Категория из пробелов\n";

#[test]
fn rejected_rows_are_reported_with_their_physical_lines() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let input = write(&inputs, "bad.csv", WITH_BAD_ROWS.as_bytes());
    let db = out.join("target.sqlite");
    let summary = import(&[&input], &db);
    let f = &summary.files[0];
    assert_eq!(
        (f.rows, f.imported, f.rejected, f.without_coordinates),
        (10, 5, 5, 3)
    );
    assert_eq!(f.rejected_by_reason.values().sum::<u64>(), 5);
    assert_eq!(
        f.rejected_by_reason.get("Дата поступления: empty date"),
        Some(&2)
    );
    assert_eq!(
        f.rejected_by_reason.get("Категория: empty category"),
        Some(&2)
    );

    // Imported: r1, r5–r8; bad coordinates kept without a position.
    let ids: Vec<String> = {
        let conn = open_ro(&db);
        let mut stmt = conn
            .prepare("SELECT external_id FROM appeals ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(ids, ["r1", "r5", "r6", "r7", "r8"]);
    for id in ["r5", "r6", "r7"] {
        assert_eq!(position_of(&db, id), None, "{id}");
    }
    assert_position(&db, "r8", 57.2, 65.6);
    assert_eq!(
        text_of(&db, "r1", "text").as_deref(),
        Some("Первая строка\nвторая строка")
    );

    // The report: next to the target, named after the input.
    let report = out.join("bad.csv.rejected.csv");
    assert_eq!(f.report.as_deref(), Some(report.as_path()));
    let records = report_records(&report);
    assert_eq!(records[0], ["file", "line", "column", "reason", "raw"]);
    let rows: Vec<(&str, &str, &str)> = records[1..]
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "4",
                "Дата поступления",
                "r2;;ЖКХ;ул. Мира, 2;57,15;65,53;Нет даты"
            ),
            (
                "5",
                "Дата поступления",
                "r3;31.02.2021;ЖКХ;ул. Мира, 3;57,15;65,53;Невозможная дата"
            ),
            (
                "6",
                "Категория",
                "r4;02.03.2021 10:00;;ул. Мира, 4;57,15;65,53;Нет категории"
            ),
            (
                "12",
                "Дата поступления",
                "r9;;ЖКХ;ул. Мира, 9;;;\"многострочный\n\nбез даты\""
            ),
            (
                "15",
                "Категория",
                "r10;07.03.2021;  ;ул. Мира, 10;57,2;65,6;Категория из пробелов"
            ),
        ]
    );
    for record in &records[1..] {
        assert_eq!(record.len(), 5);
        assert_eq!(Path::new(&record[0]), input.as_path());
    }
    assert!(records[1][3].contains("empty date"), "{:?}", records[1]);
    assert!(records[2][3].contains("31.02.2021"), "{:?}", records[2]);
    assert!(records[3][3].contains("empty category"), "{:?}", records[3]);
    // Nothing next to the input.
    assert!(!inputs.join("bad.csv.rejected.csv").exists());

    let appeals = load(&db);
    assert_eq!(
        (
            appeals.quality.rows,
            appeals.quality.placed,
            appeals.quality.no_coordinates
        ),
        (5, 2, 3)
    );
}

/// The summary groups rejections by reason with the value left out (docs/import.md: "rejected
/// 104: Дата поступления: unparsable date"): two impossible dates are one reason, and a reason
/// is never cut inside a time of day.
#[test]
fn rejected_reasons_are_grouped_without_the_values() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "dates.csv",
        "Номер;Дата поступления;Категория\n\
         1;01.03.2021;ЖКХ\n\
         2;02.03.2021;ЖКХ\n\
         3;03.03.2021;ЖКХ\n\
         4;04.03.2021;ЖКХ\n\
         5;31.02.2021;ЖКХ\n\
         6;30.02.2021;ЖКХ\n\
         7;05.03.2021 25:00;ЖКХ\n"
            .as_bytes(),
    );
    let db = dir.path().join("d.sqlite");
    let f = import(&[&input], &db).files.remove(0);
    assert_eq!((f.imported, f.rejected), (4, 3));
    let keys: Vec<&String> = f.rejected_by_reason.keys().collect();
    for key in &keys {
        assert_eq!(
            key.matches('(').count(),
            key.matches(')').count(),
            "a reason cut short: {keys:?}"
        );
        assert!(
            !key.contains("2021"),
            "the value is part of the reason: {keys:?}"
        );
    }
    assert!(
        f.rejected_by_reason.len() <= 2,
        "{:?}",
        f.rejected_by_reason
    );
}

/// Two inputs with the same file name (from two folders) in one import: both files' rejected
/// rows must survive ("never silently dropped").
#[test]
fn same_named_inputs_keep_both_reports() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let a = write(
        &dir.path().join("a"),
        "export.csv",
        "Номер;Дата поступления;Категория\na1;01.03.2021;ЖКХ\na2;;ЖКХ\na3;03.03.2021;ЖКХ\n"
            .as_bytes(),
    );
    let b = write(
        &dir.path().join("b"),
        "export.csv",
        "Номер;Дата поступления;Категория\nb1;01.03.2021;ЖКХ\nb2;02.03.2021;\nb3;03.03.2021;ЖКХ\n"
            .as_bytes(),
    );
    let db = dir.path().join("t.sqlite");
    let summary = import(&[&a, &b], &db);
    assert_eq!(
        (summary.files[0].rejected, summary.files[1].rejected),
        (1, 1)
    );
    let ra = summary.files[0].report.clone().unwrap();
    let rb = summary.files[1].report.clone().unwrap();
    let mut raws: Vec<String> = report_records(&ra)[1..]
        .iter()
        .chain(&report_records(&rb)[1..])
        .map(|r| r[4].clone())
        .collect();
    raws.sort();
    raws.dedup();
    assert_eq!(raws, ["a2;;ЖКХ", "b2;02.03.2021;"]);
}

// -------------------------------------------------------------------------------------------
// 8. Nothing half-done
// -------------------------------------------------------------------------------------------

/// A long UTF-8 export (enough rows that SQLite spills pages to the file before the end) whose
/// record at physical line `bad_line` is broken by `breakage`; a multi-line record first.
fn long_export(rows: usize, breakage: &[u8]) -> (Vec<u8>, u64) {
    let mut text = String::from("Номер;Дата поступления;Категория;Широта;Долгота;Текст\n");
    text.push_str("n0;01.01.2021 08:00;ЖКХ;57,1;65,5;\"две\nстроки\"\n");
    let filler = "Во дворе не убирают снег, жители жалуются уже вторую неделю; ".repeat(3);
    for i in 1..rows {
        text.push_str(&format!(
            "n{i};{:02}.{:02}.2021 {:02}:{:02};ЖКХ;57,{i:05};65,{i:05};{filler}обращение {i}\n",
            i % 28 + 1,
            i % 12 + 1,
            i % 24,
            i % 60
        ));
    }
    // Header (1) + multi-line record (2) + rows-1 records.
    let bad_line = 1 + 2 + (rows as u64 - 1) + 1;
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(breakage);
    bytes.extend_from_slice(
        "n-tail1;01.02.2021;ЖКХ;57,1;65,5;ещё\nn-tail2;01.02.2021;ЖКХ;57,1;65,5;и ещё\n".as_bytes(),
    );
    (bytes, bad_line)
}

#[test]
fn failed_import_leaves_an_existing_target_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("target.sqlite");
    existing_target(&db);
    let original = std::fs::read(&db).unwrap();
    let original_dump = dump(&db);

    // An unterminated quote near the end.
    let (bytes, bad_line) = long_export(
        20_000,
        "n-bad;01.02.2021;ЖКХ;57,1;65,5;\"кавычка не закрыта\n".as_bytes(),
    );
    let input = write(dir.path(), "quote.csv", &bytes);
    let mut rows_seen = 0;
    let mut largest_during = 0;
    let err = import_files(
        std::slice::from_ref(&input),
        &db,
        &ImportOptions::default(),
        &mut |p| {
            rows_seen = p.rows;
            largest_during = largest_during.max(std::fs::metadata(&db).unwrap().len());
        },
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&format!("line {bad_line},")) && message.contains("quote.csv"),
        "{message}"
    );
    // It did get far before failing, far enough that SQLite wrote pages into the target file
    // before the end (so the rollback had something to undo).
    assert!(rows_seen >= 15_000, "{rows_seen}");
    assert!(
        largest_during > original.len() as u64,
        "{largest_during} <= {}",
        original.len()
    );
    assert!(std::fs::read(&db).unwrap() == original, "target changed");
    assert!(!journal_of(&db).exists());
    assert_eq!(dump(&db), original_dump);

    // Invalid bytes with `--encoding utf-8`, through the CLI.
    let (bytes, bad_line) = long_export(20_000, b"n-bad;01.02.2021;\xCA\xCA\xD5;57,1;65,5;x\n");
    let input = write(dir.path(), "bytes.csv", &bytes);
    let err = run_cli(&[
        "import",
        input.to_str().unwrap(),
        "--into",
        db.to_str().unwrap(),
        "--encoding",
        "utf-8",
    ])
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains(&format!("line {bad_line} ")) && message.contains("UTF-8"),
        "{message}"
    );
    assert!(std::fs::read(&db).unwrap() == original, "target changed");
    assert!(!journal_of(&db).exists());

    // A good file is then imported normally (the failures left no lock or half state).
    let (bytes, _) = long_export(50, b"");
    let input = write(dir.path(), "good.csv", &bytes);
    let summary = import(&[&input], &db);
    assert!(!summary.created);
    assert_eq!(count(&db), 3 + 52);
}

#[test]
fn failed_import_leaves_no_new_target_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.sqlite");
    let (bytes, bad_line) = long_export(
        3_000,
        "n-bad;01.02.2021;ЖКХ;57,1;65,5;\"кавычка не закрыта\n".as_bytes(),
    );
    let input = write(dir.path(), "quote.csv", &bytes);
    let err = import_with(&[&input], &db, &ImportOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains(&format!("line {bad_line},")),
        "{err}"
    );
    assert!(!db.exists());
    assert!(!journal_of(&db).exists());
    // Unmapped columns fail before any row, likewise.
    let other = write(dir.path(), "other.csv", b"a;b\n1;2\n");
    assert!(import_with(&[&other], &db, &ImportOptions::default()).is_err());
    assert!(!db.exists());
    // The second of two inputs failing undoes the first one too.
    let good = write(
        dir.path(),
        "good.csv",
        "Дата поступления;Категория\n01.03.2021;ЖКХ\n".as_bytes(),
    );
    assert!(import_with(&[&good, &input], &db, &ImportOptions::default()).is_err());
    assert!(!db.exists());
    let existing = dir.path().join("existing.sqlite");
    existing_target(&existing);
    let original = std::fs::read(&existing).unwrap();
    assert!(import_with(&[&good, &input], &existing, &ImportOptions::default()).is_err());
    assert!(std::fs::read(&existing).unwrap() == original);
}

#[test]
fn inputs_are_never_modified() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "export.csv",
        &encode(CP1251_EXPORT, WINDOWS_1251),
    );
    let bad = write(dir.path(), "bad.csv", WITH_BAD_ROWS.as_bytes());
    let (bytes, _) = long_export(100, b"n-bad;01.02.2021;\"open\n");
    let broken = write(dir.path(), "broken.csv", &bytes);
    let xlsx = dir.path().join("book.xlsx");
    workbook(&xlsx);
    let inputs = [csv, bad, broken, xlsx];
    let state = |p: &Path| {
        (
            std::fs::read(p).unwrap(),
            std::fs::metadata(p).unwrap().modified().unwrap(),
        )
    };
    let before: Vec<_> = inputs.iter().map(|p| state(p)).collect();
    // Target next to the inputs, so the report lands there too.
    let db = dir.path().join("t.sqlite");
    import(&[&inputs[0], &inputs[1]], &db);
    import(&[&inputs[0], &inputs[1]], &db);
    import(&[&inputs[3]], &db);
    assert!(import_with(&[&inputs[0], &inputs[2]], &db, &ImportOptions::default()).is_err());
    let after: Vec<_> = inputs.iter().map(|p| state(p)).collect();
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        assert!(b.0 == a.0, "{} changed", inputs[i].display());
        assert_eq!(b.1, a.1, "{} mtime changed", inputs[i].display());
    }
}

/// A report that cannot be written: the import says it failed, so the target must be as it was
/// (or the import must succeed); never "failed" with the rows committed.
#[test]
fn report_failure_does_not_leave_a_committed_import_behind_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("target.sqlite");
    existing_target(&db);
    let original = std::fs::read(&db).unwrap();
    let input = write(
        dir.path(),
        "in.csv",
        "Номер;Дата поступления;Категория\nx1;01.03.2021;ЖКХ\nx2;;ЖКХ\n".as_bytes(),
    );
    // A directory where the report file would go.
    std::fs::create_dir_all(dir.path().join("in.csv.rejected.csv")).unwrap();
    match import_with(&[&input], &db, &ImportOptions::default()) {
        Err(_) => assert!(
            std::fs::read(&db).unwrap() == original,
            "the import failed but the target holds {} appeals instead of 3",
            count(&db)
        ),
        // Succeeding is fine only if the rejected row is reported somewhere.
        Ok(summary) => {
            let report = summary.files[0].report.clone().unwrap();
            assert_eq!(report_records(&report)[1][4], "x2;;ЖКХ");
        }
    }
}

// -------------------------------------------------------------------------------------------
// 9. Mapping
// -------------------------------------------------------------------------------------------

#[test]
fn unrecognised_headers_then_map_save_and_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.csv",
        "Когда;Вопрос;Улица;Пояснение\n\
         01.03.2021 10:00;ЖКХ;ул. Мира, 3;Нет воды\n\
         02.03.2021 11:30;Дороги;ул. Ленина, 5;Яма\n\
         03.03.2021;Благоустройство;;Нет освещения\n"
            .as_bytes(),
    );
    // The same rows with the columns in another order.
    let b = write(
        dir.path(),
        "b.csv",
        "Пояснение;Улица;Вопрос;Когда\n\
         Нет воды;ул. Мира, 3;ЖКХ;01.03.2021 10:00\n\
         Яма;ул. Ленина, 5;Дороги;02.03.2021 11:30\n\
         Нет освещения;;Благоустройство;03.03.2021\n"
            .as_bytes(),
    );
    let db1 = dir.path().join("one.sqlite");
    let err = run_cli(&[
        "import",
        a.to_str().unwrap(),
        "--into",
        db1.to_str().unwrap(),
    ])
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("received_at"), "{message}");
    for header in ["Когда", "Вопрос", "Улица", "Пояснение"] {
        assert!(message.contains(header), "{message}");
    }
    assert!(!db1.exists());
    // With received_at mapped, category is the missing one.
    let err = run_cli(&[
        "import",
        a.to_str().unwrap(),
        "--into",
        db1.to_str().unwrap(),
        "--map",
        "received_at=Когда",
    ])
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("no column for category"), "{message}");

    let toml = dir.path().join("m.toml");
    let out = run_cli(&[
        "import",
        a.to_str().unwrap(),
        "--into",
        db1.to_str().unwrap(),
        "--map",
        "received_at=Когда",
        "--map",
        "category=Вопрос",
        "--map",
        "address=Улица",
        "--map",
        "text=Пояснение",
        "--save-mapping",
        toml.to_str().unwrap(),
    ])
    .unwrap();
    assert!(out.contains("received_at=\"Когда\""), "{out}");
    assert_eq!(count(&db1), 3);
    assert_eq!(
        dump(&db1),
        [
            [
                "∅",
                "2021-03-01T10:00:00",
                "import",
                "ЖКХ",
                "∅",
                "∅",
                "∅",
                "ул. Мира, 3",
                "∅",
                "∅",
                "unknown",
                "∅",
                "Нет воды"
            ],
            [
                "∅",
                "2021-03-02T11:30:00",
                "import",
                "Дороги",
                "∅",
                "∅",
                "∅",
                "ул. Ленина, 5",
                "∅",
                "∅",
                "unknown",
                "∅",
                "Яма"
            ],
            [
                "∅",
                "2021-03-03",
                "import",
                "Благоустройство",
                "∅",
                "∅",
                "∅",
                "∅",
                "∅",
                "∅",
                "unknown",
                "∅",
                "Нет освещения"
            ],
        ]
    );
    let saved = Mapping::from_toml(&std::fs::read_to_string(&toml).unwrap()).unwrap();
    assert_eq!(saved.get(Field::ReceivedAt), Some("Когда"));
    assert_eq!(saved.get(Field::Category), Some("Вопрос"));
    assert_eq!(saved.get(Field::Address), Some("Улица"));
    assert_eq!(saved.get(Field::Text), Some("Пояснение"));
    assert_eq!(saved.columns.len(), 4);

    // The saved mapping on the second file (columns reordered): the same appeals.
    let db2 = dir.path().join("two.sqlite");
    run_cli(&[
        "import",
        b.to_str().unwrap(),
        "--into",
        db2.to_str().unwrap(),
        "--mapping",
        toml.to_str().unwrap(),
    ])
    .unwrap();
    assert_eq!(dump(&db2), dump(&db1));
    // And, as the hash is the content, the second file re-imported into the first target
    // duplicates nothing.
    let out = run_cli(&[
        "import",
        b.to_str().unwrap(),
        "--into",
        db1.to_str().unwrap(),
        "--mapping",
        toml.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.contains("imported 0 · updated 0 · unchanged 3"),
        "{out}"
    );
    assert_eq!(count(&db1), 3);

    // A mapping naming a column the file lacks: an error naming it.
    let c = write(
        dir.path(),
        "c.csv",
        "Когда;Тема\n01.03.2021;ЖКХ\n".as_bytes(),
    );
    let err = run_cli(&[
        "import",
        c.to_str().unwrap(),
        "--into",
        dir.path().join("three.sqlite").to_str().unwrap(),
        "--mapping",
        toml.to_str().unwrap(),
    ])
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("Вопрос") && message.contains("Улица"),
        "{message}"
    );
}

// -------------------------------------------------------------------------------------------
// 10. Every date format in one file
// -------------------------------------------------------------------------------------------

#[test]
fn every_supported_date_format() {
    let cases = [
        ("2021-03-01T09:30:00+05:00", "2021-03-01T09:30:00+05:00"),
        ("2021-03-01T09:30:00Z", "2021-03-01T09:30:00Z"),
        ("2021-03-01 09:30", "2021-03-01T09:30:00"),
        ("2021-03-01", "2021-03-01"),
        ("2021/03/01", "2021-03-01"),
        ("01.03.2021", "2021-03-01"),
        ("1.3.2021 7:05", "2021-03-01T07:05:00"),
        ("01.03.2021 09:30:15", "2021-03-01T09:30:15"),
        ("03/01/2021 09:30:15 PM", "2021-03-01T21:30:15"),
        ("03/01/2021 12:00:00 AM", "2021-03-01T00:00:00"),
        ("03/01/2021 12:00:00 PM", "2021-03-01T12:00:00"),
        ("44197.5", "2021-01-01T12:00:00"),
        ("44197,25", "2021-01-01T06:00:00"),
        ("44197", "2021-01-01"),
    ];
    let mut text = String::from("Номер;Дата поступления;Категория\n");
    for (i, (input, _)) in cases.iter().enumerate() {
        text.push_str(&format!("d{i};{input};ЖКХ\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "dates.csv", text.as_bytes());
    let db = dir.path().join("dates.sqlite");
    let summary = import(&[&input], &db);
    let f = &summary.files[0];
    assert_eq!(
        (f.imported, f.rejected),
        (cases.len() as u64, 0),
        "{:?}",
        f.rejected_by_reason
    );
    for (i, (input, expected)) in cases.iter().enumerate() {
        assert_eq!(
            text_of(&db, &format!("d{i}"), "received_at").as_deref(),
            Some(*expected),
            "{input}"
        );
    }
    let appeals = load(&db);
    assert_eq!(appeals.quality.received_unparsable, 0);
    assert!(appeals.received.iter().all(Option::is_some));
}
