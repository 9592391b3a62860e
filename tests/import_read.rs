//! Reading input files as tables (`teplokarta::data::import::read`): every fixture is written
//! here, in a temporary directory — CSV in the encodings and delimiters people export, an .xlsx
//! with two sheets, GeoJSON — and each test checks what was detected, the headers, the field
//! values, the line of each record, the errors (naming the file and line) and that garbage of
//! every supported extension gives an error, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{encode, write};
use encoding_rs::{KOI8_R, WINDOWS_1251};
use teplokarta::data::import::read::{ReadError, ReadOptions, SourceKind, SourceRow, Table};

/// All the rows, failing on an error.
fn rows(table: &mut Table) -> Vec<SourceRow> {
    let mut rows = Vec::new();
    while let Some(row) = table.next_row() {
        rows.push(row.unwrap());
    }
    rows
}

fn open(path: &Path) -> Table {
    Table::open(path, &ReadOptions::default()).unwrap()
}

fn csv_kind(table: &Table) -> (&'static str, bool, u8) {
    common::csv_kind(table.kind())
}

fn fields(row: &SourceRow) -> Vec<&str> {
    row.fields.iter().map(String::as_str).collect()
}

/// An appeals export as the situation room's CP1251 spreadsheets save it: `;`, a quoted field
/// holding `;` and a line break.
const APPEALS: &str = "Номер;Дата;Описание;Адрес\r\n\
1;01.02.2025;\"Во дворе не убирают снег; жители жалуются\r\nуже неделю\";ул. Мира, 3\r\n\
2;02.02.2025;Ямы на дороге;пр. Победы, 10\r\n";

#[test]
fn utf8_csv_with_semicolons() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "appeals.csv",
        "id;Адрес;Текст\n1;ул. Ленина, 5;Нет отопления\n2;ул. Гагарина, 12;Не вывозят мусор\n"
            .as_bytes(),
    );
    let mut table = open(&path);
    assert_eq!(csv_kind(&table), ("UTF-8", false, b';'));
    assert_eq!(table.headers(), ["id", "Адрес", "Текст"]);
    let rows = rows(&mut table);
    assert_eq!(rows.len(), 2);
    assert_eq!(fields(&rows[0]), ["1", "ул. Ленина, 5", "Нет отопления"]);
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[0].raw, "1;ул. Ленина, 5;Нет отопления");
    assert_eq!(rows[0].extra_fields, 0);
    assert_eq!(
        fields(&rows[1]),
        ["2", "ул. Гагарина, 12", "Не вывозят мусор"]
    );
    assert_eq!(rows[1].line, 3);
}

#[test]
fn utf8_bom_is_never_part_of_the_first_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(" id , Категория ,\n7,ЖКХ,x\n".as_bytes());
    let path = write(dir.path(), "bom.csv", &bytes);
    let mut table = open(&path);
    assert_eq!(csv_kind(&table), ("UTF-8", true, b','));
    // Trimmed, and the empty third header named by its position.
    assert_eq!(table.headers(), ["id", "Категория", "column 3"]);
    let rows = rows(&mut table);
    assert_eq!(fields(&rows[0]), ["7", "ЖКХ", "x"]);
    assert_eq!(rows[0].line, 2);
}

#[test]
fn windows_1251_with_a_quoted_multiline_field() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = encode(APPEALS, WINDOWS_1251);
    assert!(std::str::from_utf8(&bytes).is_err());
    let path = write(dir.path(), "appeals_cp1251.csv", &bytes);
    let mut table = open(&path);
    assert_eq!(csv_kind(&table), ("windows-1251", false, b';'));
    assert_eq!(table.headers(), ["Номер", "Дата", "Описание", "Адрес"]);
    let rows = rows(&mut table);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        fields(&rows[0]),
        [
            "1",
            "01.02.2025",
            "Во дворе не убирают снег; жители жалуются\r\nуже неделю",
            "ул. Мира, 3"
        ]
    );
    assert_eq!(rows[0].line, 2);
    assert_eq!(
        rows[0].raw,
        "1;01.02.2025;\"Во дворе не убирают снег; жители жалуются\r\nуже неделю\";ул. Мира, 3"
    );
    // The quoted field took lines 2 and 3: the next record starts on line 4.
    assert_eq!(
        fields(&rows[1]),
        ["2", "02.02.2025", "Ямы на дороге", "пр. Победы, 10"]
    );
    assert_eq!(rows[1].line, 4);
    assert_eq!(rows[1].raw, "2;02.02.2025;Ямы на дороге;пр. Победы, 10");
}

#[test]
fn koi8_r_is_told_from_windows_1251() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Категория;Текст обращения\n\
        Благоустройство;Во дворе сломаны качели, дети могут пораниться\n\
        Дороги;На перекрёстке не работает светофор\n";
    let path = write(dir.path(), "koi8.csv", &encode(text, KOI8_R));
    let mut table = open(&path);
    assert_eq!(csv_kind(&table), ("KOI8-R", false, b';'));
    assert_eq!(table.headers(), ["Категория", "Текст обращения"]);
    let rows = rows(&mut table);
    assert_eq!(
        fields(&rows[0]),
        [
            "Благоустройство",
            "Во дворе сломаны качели, дети могут пораниться"
        ]
    );
    assert_eq!(
        fields(&rows[1]),
        ["Дороги", "На перекрёстке не работает светофор"]
    );
    assert_eq!(rows[1].line, 3);
}

#[test]
fn upper_case_headers_alone_still_detect_the_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let text = "АДРЕС;КАТЕГОРИЯ;СТАТУС\nУЛ. ЛЕНИНА;ОТОПЛЕНИЕ;НОВОЕ\n";
    for (name, encoding) in [("a.csv", WINDOWS_1251), ("b.csv", KOI8_R)] {
        let path = write(dir.path(), name, &encode(text, encoding));
        let table = open(&path);
        assert_eq!(csv_kind(&table).0, encoding.name());
        assert_eq!(table.headers(), ["АДРЕС", "КАТЕГОРИЯ", "СТАТУС"]);
    }
}

#[test]
fn tab_and_pipe_separated() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = write(
        dir.path(),
        "appeals.tsv",
        "id\tТекст\tАдрес\n1\tШум, крики; ночью\tул. Мира\n".as_bytes(),
    );
    let mut table = open(&tsv);
    assert_eq!(csv_kind(&table), ("UTF-8", false, b'\t'));
    assert_eq!(table.headers(), ["id", "Текст", "Адрес"]);
    assert_eq!(
        fields(&rows(&mut table)[0]),
        ["1", "Шум, крики; ночью", "ул. Мира"]
    );

    let pipe = write(
        dir.path(),
        "appeals.txt",
        "id|Текст|lat|lon\n1|Яма, большая|55,75|37,61\n2|Лужа|55,76|37,62\n".as_bytes(),
    );
    let mut table = open(&pipe);
    assert_eq!(csv_kind(&table), ("UTF-8", false, b'|'));
    let rows = rows(&mut table);
    assert_eq!(fields(&rows[0]), ["1", "Яма, большая", "55,75", "37,61"]);
    assert_eq!(fields(&rows[1]), ["2", "Лужа", "55,76", "37,62"]);
}

#[test]
fn utf16_unicode_text_as_excel_saves_it() {
    // Excel's "Unicode text": UTF-16LE with a BOM, tab-separated.
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    for unit in "Номер\tТекст\r\n1\tНет света\r\n".encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let path = write(dir.path(), "unicode.txt", &bytes);
    let mut table = open(&path);
    assert_eq!(csv_kind(&table), ("UTF-16LE", true, b'\t'));
    assert_eq!(table.headers(), ["Номер", "Текст"]);
    let rows = rows(&mut table);
    assert_eq!(
        (rows[0].line, fields(&rows[0])),
        (2, vec!["1", "Нет света"])
    );
}

#[test]
fn tables_and_errors_move_to_a_worker_thread() {
    fn send<T: Send + 'static>() {}
    send::<Table>();
    send::<ReadError>();
}

#[test]
fn comma_csv_with_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "quoted.CSV",
        "\"name\",\"comment\",\"n\"\n\"Иванов И.И.\",\"сказал \"\"жду\"\", ушёл; потом\",\"3\"\n\
         Петров,\"a,b\",4\n"
            .as_bytes(),
    );
    let mut table = open(&path);
    assert_eq!(csv_kind(&table), ("UTF-8", false, b','));
    assert_eq!(table.headers(), ["name", "comment", "n"]);
    let rows = rows(&mut table);
    assert_eq!(
        fields(&rows[0]),
        ["Иванов И.И.", "сказал \"жду\", ушёл; потом", "3"]
    );
    assert_eq!(fields(&rows[1]), ["Петров", "a,b", "4"]);
    assert_eq!(rows[1].line, 3);
}

#[test]
fn short_and_long_records_blank_lines_and_delimiter_only_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "ragged.csv",
        b"a;b;c\n1;2\n\n;;\n3;4;5;6;7\r\n\r\n8;9;10\n",
    );
    let mut table = open(&path);
    let rows = rows(&mut table);
    assert_eq!(rows.len(), 3);
    assert_eq!(fields(&rows[0]), ["1", "2", ""]);
    assert_eq!((rows[0].line, rows[0].extra_fields), (2, 0));
    // Line 3 is blank and line 4 holds delimiters only: both skipped.
    assert_eq!(fields(&rows[1]), ["3", "4", "5"]);
    assert_eq!((rows[1].line, rows[1].extra_fields), (5, 2));
    assert_eq!(rows[1].raw, "3;4;5;6;7");
    assert_eq!(fields(&rows[2]), ["8", "9", "10"]);
    assert_eq!(rows[2].line, 7);
}

#[test]
fn forced_encoding_and_delimiter_override_detection() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = encode(APPEALS, WINDOWS_1251);
    let path = write(dir.path(), "forced.csv", &bytes);
    let options = ReadOptions {
        encoding: Some("koi8-r".to_owned()),
        ..ReadOptions::default()
    };
    let table = Table::open(&path, &options).unwrap();
    assert_eq!(csv_kind(&table).0, "KOI8-R");
    let header_bytes = &bytes[..bytes.iter().position(|&b| b == b';').unwrap()];
    assert_eq!(table.headers()[0], KOI8_R.decode(header_bytes).0);

    // "cp1251" is a label for windows-1251.
    let options = ReadOptions {
        encoding: Some("cp1251".to_owned()),
        delimiter: Some(b','),
        ..ReadOptions::default()
    };
    let mut table = Table::open(&path, &options).unwrap();
    assert_eq!(csv_kind(&table), ("windows-1251", false, b','));
    assert_eq!(table.headers(), ["Номер;Дата;Описание;Адрес"]);
    // With `,` the quote is inside a field, so it quotes nothing and the record ends at the line.
    let rows = rows(&mut table);
    assert_eq!(
        fields(&rows[0]),
        ["1;01.02.2025;\"Во дворе не убирают снег; жители жалуются"]
    );
    assert_eq!((rows[0].line, rows[0].extra_fields), (2, 0));
    assert_eq!(fields(&rows[1]), ["уже неделю\";ул. Мира"]);
    assert_eq!((rows[1].line, rows[1].extra_fields), (3, 1));
}

#[test]
fn unknown_forced_encoding_names_the_label_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.csv", b"a;b\n1;2\n");
    let options = ReadOptions {
        encoding: Some("cp-nonsense".to_owned()),
        ..ReadOptions::default()
    };
    let err = Table::open(&path, &options).unwrap_err();
    assert!(matches!(err, ReadError::UnknownEncoding { ref label, .. } if label == "cp-nonsense"));
    let message = err.to_string();
    assert!(
        message.contains("cp-nonsense") && message.contains("x.csv"),
        "{message}"
    );
}

#[test]
fn invalid_bytes_under_forced_utf8_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = "a;b\n1;Свет\n2;".as_bytes().to_vec();
    bytes.extend_from_slice(&encode("Вода", WINDOWS_1251));
    bytes.extend_from_slice(b"\n");
    let path = write(dir.path(), "broken_utf8.csv", &bytes);
    let options = ReadOptions {
        encoding: Some("utf-8".to_owned()),
        ..ReadOptions::default()
    };
    let err = Table::open(&path, &options).unwrap_err();
    match &err {
        ReadError::Encoding {
            encoding,
            line,
            byte,
            ..
        } => {
            assert_eq!((*encoding, *line), ("UTF-8", 3));
            assert_eq!(*byte as usize, "a;b\n1;Свет\n2;".len());
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("line 3") && message.contains("broken_utf8.csv"),
        "{message}"
    );

    // Undetected, the same file reads (as windows-1251, the text no UTF-8 reading makes sense of).
    assert!(Table::open(&path, &ReadOptions::default()).is_ok());
}

#[test]
fn unterminated_quote_ends_the_table_with_an_error_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "unterminated.csv",
        "id;Текст;Адрес\n1;Свет;ул. Мира\n2;\"Вода;ул. Ленина\n3;Газ;пр. Победы\n".as_bytes(),
    );
    let mut table = open(&path);
    let first = table.next_row().unwrap().unwrap();
    assert_eq!(
        (first.line, fields(&first)),
        (2, vec!["1", "Свет", "ул. Мира"])
    );
    let err = table.next_row().unwrap().unwrap_err();
    match &err {
        ReadError::CsvSyntax {
            line,
            field,
            header,
            ..
        } => assert_eq!((*line, *field, header.as_str()), (3, 2, "`Текст`")),
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("line 3") && message.contains("unterminated.csv"),
        "{message}"
    );
    assert!(table.next_row().is_none());
    let (read, total) = table.progress();
    assert_eq!(read, total);
}

#[test]
fn csv_progress_counts_file_bytes_and_reaches_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("Номер;Описание\n");
    for i in 0..200 {
        text.push_str(&format!("{i};Не работает уличное освещение во дворе\n"));
    }
    let bytes = encode(&text, WINDOWS_1251);
    let path = write(dir.path(), "progress.csv", &bytes);
    let mut table = open(&path);
    let total = bytes.len() as u64;
    let mut last = table.progress();
    assert_eq!(last.1, total);
    assert!(last.0 < total);
    let mut count = 0;
    while let Some(row) = table.next_row() {
        row.unwrap();
        count += 1;
        let now = table.progress();
        assert!(now.0 >= last.0 && now.1 == total);
        last = now;
    }
    assert_eq!(count, 200);
    assert_eq!(table.progress(), (total, total));
}

#[test]
fn empty_csv_has_no_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty.csv", b"\n\r\n");
    let err = Table::open(&path, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, ReadError::Empty { .. }), "{err:?}");
}

fn write_workbook(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let date_format = Format::new().set_num_format("dd.mm.yyyy hh:mm:ss");
    let first = workbook.add_worksheet();
    first.set_name("Сводка").unwrap();
    first.write_string(0, 0, "Всего").unwrap();
    first.write_number(1, 0, 3).unwrap();

    let sheet = workbook.add_worksheet();
    sheet.set_name("Обращения").unwrap();
    // Rows 1-2 empty: the header is the first non-empty row, sheet row 3.
    for (col, header) in ["Номер", "Текст", "Сумма", "Доля", "Дата", "", "Срочно"]
        .into_iter()
        .enumerate()
    {
        if !header.is_empty() {
            sheet.write_string(2, col as u16, header).unwrap();
        }
    }
    sheet.write_number(3, 0, 1).unwrap();
    sheet.write_string(3, 1, "Нет горячей воды").unwrap();
    sheet.write_number(3, 2, 42).unwrap();
    sheet.write_number(3, 3, 0.125).unwrap();
    let date = ExcelDateTime::from_ymd(2025, 3, 14)
        .unwrap()
        .and_hms(9, 26, 53)
        .unwrap();
    sheet
        .write_datetime_with_format(3, 4, &date, &date_format)
        .unwrap();
    sheet.write_boolean(3, 6, true).unwrap();
    // Sheet row 5 left empty; row 6 with an empty cell (column C) and an extra cell (column I).
    sheet.write_number(5, 0, 2).unwrap();
    sheet.write_string(5, 1, "Яма").unwrap();
    sheet.write_number(5, 3, -1234.5678).unwrap();
    sheet.write_boolean(5, 6, false).unwrap();
    sheet.write_string(5, 8, "лишнее").unwrap();
    workbook.save(path).unwrap();
}

#[test]
fn xlsx_cells_as_text_from_a_sheet_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appeals.xlsx");
    write_workbook(&path);
    let before = std::fs::read(&path).unwrap();

    // The first sheet by default.
    let mut table = open(&path);
    assert_eq!(
        table.kind(),
        &SourceKind::Excel {
            sheet: "Сводка".to_owned()
        }
    );
    assert_eq!(table.headers(), ["Всего"]);
    let summary = rows(&mut table);
    assert_eq!((summary[0].line, fields(&summary[0])), (2, vec!["3"]));

    let options = ReadOptions {
        sheet: Some("Обращения".to_owned()),
        ..ReadOptions::default()
    };
    let mut table = Table::open(&path, &options).unwrap();
    assert_eq!(
        table.kind(),
        &SourceKind::Excel {
            sheet: "Обращения".to_owned()
        }
    );
    assert_eq!(
        table.headers(),
        [
            "Номер",
            "Текст",
            "Сумма",
            "Доля",
            "Дата",
            "column 6",
            "Срочно"
        ]
    );
    assert_eq!(table.progress(), (0, 3));
    let rows = rows(&mut table);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        fields(&rows[0]),
        [
            "1",
            "Нет горячей воды",
            "42",
            "0.125",
            "2025-03-14T09:26:53",
            "",
            "true"
        ]
    );
    assert_eq!(rows[0].line, 4);
    assert_eq!(rows[0].extra_fields, 0);
    assert_eq!(
        rows[0].raw,
        "1;Нет горячей воды;42;0.125;2025-03-14T09:26:53;;true"
    );
    assert_eq!(
        fields(&rows[1]),
        ["2", "Яма", "", "-1234.5678", "", "", "false"]
    );
    assert_eq!(rows[1].line, 6);
    assert_eq!(rows[1].extra_fields, 2);
    assert_eq!(rows[1].raw, "2;Яма;;-1234.5678;;;false;;лишнее");
    assert_eq!(table.progress(), (3, 3));

    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the input was modified"
    );
}

#[test]
fn unknown_sheet_lists_the_sheets_present() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Appeals.XLSX");
    write_workbook(&path);
    let options = ReadOptions {
        sheet: Some("Лист1".to_owned()),
        ..ReadOptions::default()
    };
    let err = Table::open(&path, &options).unwrap_err();
    match &err {
        ReadError::SheetNotFound { sheet, present, .. } => {
            assert_eq!(sheet, "Лист1");
            assert_eq!(present, "Сводка, Обращения");
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("Сводка, Обращения") && message.contains("Appeals.XLSX"),
        "{message}"
    );
}

const FEATURES: &str = r#"{
  "type": "FeatureCollection",
  "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [37.6173, 55.7558]},
     "properties": {"id": 1, "category": "ЖКХ", "rating": 4.50, "urgent": true}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [30.3141, 59.9386, 12.0]},
     "properties": {"category": "Дороги", "comment": null, "tags": ["яма", "лужа"], "id": 2}},
    {"type": "Feature", "geometry": null,
     "properties": {"id": 3, "extra": {"k": 1, "a": [1, 2]}}},
    {"type": "Feature",
     "geometry": {"type": "LineString", "coordinates": [[37.0, 55.0], [37.1, 55.1]]},
     "properties": null}
  ]
}"#;

#[test]
fn geojson_points_with_mixed_properties() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "appeals.geojson", FEATURES.as_bytes());
    let mut table = open(&path);
    assert_eq!(table.kind(), &SourceKind::GeoJson);
    assert_eq!(
        table.headers(),
        [
            "id",
            "category",
            "rating",
            "urgent",
            "comment",
            "tags",
            "extra",
            "longitude",
            "latitude"
        ]
    );
    assert_eq!(table.progress(), (0, 4));
    let rows = rows(&mut table);
    assert_eq!(rows.len(), 4);
    assert_eq!(
        fields(&rows[0]),
        ["1", "ЖКХ", "4.5", "true", "", "", "", "37.6173", "55.7558"]
    );
    assert_eq!(rows[0].line, 1);
    assert_eq!(rows[0].raw, "1;ЖКХ;4.5;true;;;;37.6173;55.7558");
    assert_eq!(
        fields(&rows[1]),
        [
            "2",
            "Дороги",
            "",
            "",
            "",
            r#"["яма","лужа"]"#,
            "",
            "30.3141",
            "59.9386"
        ]
    );
    // No geometry: empty coordinates; an object property as compact JSON.
    assert_eq!(
        fields(&rows[2]),
        ["3", "", "", "", "", "", r#"{"a":[1,2],"k":1}"#, "", ""]
    );
    assert_eq!(rows[2].line, 3);
    // Not a point, no properties.
    assert_eq!(fields(&rows[3]), ["", "", "", "", "", "", "", "", ""]);
    assert_eq!(rows[3].line, 4);
    assert_eq!(table.progress(), (4, 4));
}

#[test]
fn geojson_coordinate_columns_do_not_clash_with_properties() {
    let dir = tempfile::tempdir().unwrap();
    let json = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Point","coordinates":[1.5,2.5]},
         "properties":{"longitude":"37,6","latitude":"55,7"}}]}"#;
    let path = write(dir.path(), "clash.json", json.as_bytes());
    let mut table = open(&path);
    assert_eq!(
        table.headers(),
        ["longitude", "latitude", "geometry_lon", "geometry_lat"]
    );
    assert_eq!(fields(&rows(&mut table)[0]), ["37,6", "55,7", "1.5", "2.5"]);
}

#[test]
fn geojson_errors() {
    let dir = tempfile::tempdir().unwrap();
    let feature = write(
        dir.path(),
        "one.geojson",
        br#"{"type":"Feature","geometry":null,"properties":{}}"#,
    );
    let err = Table::open(&feature, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(err, ReadError::NotFeatureCollection { ref found, .. } if found.contains("Feature")),
        "{err:?}"
    );
    assert!(err.to_string().contains("one.geojson"));

    let broken = write(
        dir.path(),
        "broken.geojson",
        b"{\"type\": \"FeatureCollection\",\n \"features\": [\n  {\"type\": \"Feature\" \"x\": 1}]}",
    );
    let err = Table::open(&broken, &ReadOptions::default()).unwrap_err();
    match &err {
        ReadError::GeoJson { line, column, .. } => assert_eq!((*line, *column), (3, 22)),
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("line 3") && message.contains("broken.geojson"),
        "{message}"
    );
}

#[test]
fn unsupported_extension_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "appeals.docx", b"whatever");
    let err = Table::open(&path, &ReadOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ReadError::UnsupportedExtension { .. }));
    assert!(
        message.contains("appeals.docx") && message.contains(".csv") && message.contains(".xlsx"),
        "{message}"
    );

    let missing = dir.path().join("nowhere.csv");
    let err = Table::open(&missing, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, ReadError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("nowhere.csv"));
}

/// A deterministic byte stream (xorshift), so a failure can be replayed.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Opens and drains `path`; any error is fine, a panic is not.
fn read_all(path: &Path) {
    if let Ok(mut table) = Table::open(path, &ReadOptions::default()) {
        let _ = table.headers().len();
        let mut n = 0;
        while let Some(row) = table.next_row() {
            if row.is_err() {
                break;
            }
            n += 1;
            assert!(n < 1_000_000);
        }
        let (read, total) = table.progress();
        assert_eq!(read, total);
    }
}

#[test]
fn garbage_with_every_extension_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let extensions = [
        "csv", "txt", "tsv", "xlsx", "xlsm", "xlsb", "xls", "ods", "geojson", "json",
    ];
    let mut workbook = dir.path().join("good.xlsx");
    write_workbook(&workbook);
    let xlsx = std::fs::read(&workbook).unwrap();
    for (i, extension) in extensions.iter().enumerate() {
        for (j, len) in [0, 1, 7, 512, 20_000].into_iter().enumerate() {
            let bytes = garbage((i * 10 + j) as u64 + 1, len);
            let path = write(dir.path(), &format!("garbage_{i}_{j}.{extension}"), &bytes);
            read_all(&path);
            assert_eq!(
                std::fs::read(&path).unwrap(),
                bytes,
                "the input was modified"
            );
        }
        // A real workbook cut short, and one with bytes flipped in the middle.
        let cut = write(
            dir.path(),
            &format!("cut_{i}.{extension}"),
            &xlsx[..xlsx.len() / 2],
        );
        read_all(&cut);
        let mut flipped = xlsx.clone();
        for k in (flipped.len() / 3..flipped.len() / 3 + 64).step_by(3) {
            flipped[k] ^= 0x5A;
        }
        let flipped_path = write(dir.path(), &format!("flipped_{i}.{extension}"), &flipped);
        read_all(&flipped_path);
    }
    // JSON shapes that are not a FeatureCollection.
    for (k, json) in [
        "[]",
        "null",
        "{}",
        r#"{"type":"FeatureCollection"}"#,
        r#"{"type":"FeatureCollection","features":[{"geometry":{"type":"Point","coordinates":[1]}}]}"#,
        r#"{"type":"FeatureCollection","features":[{"properties":"x"}]}"#,
        r#"{"type":"FeatureCollection","features":[1,2]}"#,
    ]
    .into_iter()
    .enumerate()
    {
        let path = write(dir.path(), &format!("shape_{k}.geojson"), json.as_bytes());
        assert!(Table::open(&path, &ReadOptions::default()).is_err(), "{json}");
    }
    // A directory named like a file.
    workbook.set_file_name("folder.csv");
    std::fs::create_dir(&workbook).unwrap();
    assert!(Table::open(&workbook, &ReadOptions::default()).is_err());
}
