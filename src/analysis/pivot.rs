//! The municipality × category table: rows are municipalities (and the other labels, with the
//! "outside boundaries / unknown" bucket), columns the top categories of the filter, then
//! "other" and the total; a totals row. Counts or per-10,000-residents values; CSV with a BOM so
//! Excel opens Cyrillic correctly.

use super::engine::Aggregates;
use super::resolve::MunicipalityResolution;
use crate::data::Appeals;
use crate::spatial::municipalities;

/// One row of the pivot.
#[derive(Clone, Debug, PartialEq)]
pub struct PivotRow {
    pub label: u32,
    /// Display name (empty for the unknown bucket).
    pub name: String,
    /// Counts of the top categories, in column order.
    pub cells: Vec<u64>,
    pub other: u64,
    pub total: u64,
    /// Residents, where known.
    pub population: Option<u32>,
}

/// The table.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PivotTable {
    /// Category code of each column.
    pub categories: Vec<u32>,
    /// Category names of the columns.
    pub category_names: Vec<String>,
    pub rows: Vec<PivotRow>,
    /// Column totals (same order as `cells`), then other and total.
    pub totals: Vec<u64>,
    pub total_other: u64,
    pub total: u64,
}

/// Builds the pivot of `aggregates` with the `top` largest categories as columns. Every
/// municipality of the table is a row (even with no appeals), plus every other label that has
/// appeals (unmatched names, polygons of other names, the unknown bucket) — all restricted to
/// the labels a municipality filter allows (`allowed`, `None` = all).
pub fn pivot_table(
    aggregates: &Aggregates,
    resolution: &MunicipalityResolution,
    appeals: &Appeals,
    top: usize,
    allowed: Option<&[bool]>,
) -> PivotTable {
    let mut order: Vec<u32> = (0..aggregates.by_category.len() as u32)
        .filter(|&c| aggregates.by_category.get(c as usize).copied().unwrap_or(0) > 0)
        .collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (
            aggregates.by_category[a as usize],
            aggregates.by_category[b as usize],
        );
        cb.cmp(&ca).then(a.cmp(&b))
    });
    order.truncate(top);
    let units = municipalities();
    let rows: Vec<PivotRow> = (0..resolution.labels.len() as u32)
        .filter(|&l| allowed.is_none_or(|a| a.get(l as usize).copied().unwrap_or(false)))
        .filter(|&l| {
            (l as usize) < units.len()
                || aggregates.by_label.get(l as usize).copied().unwrap_or(0) > 0
        })
        .map(|l| {
            let cells: Vec<u64> = order.iter().map(|&c| aggregates.cell(l, c)).collect();
            let total = aggregates.by_label.get(l as usize).copied().unwrap_or(0);
            let population = resolution
                .unit_of_label
                .get(l as usize)
                .copied()
                .flatten()
                .and_then(|u| units.get(u))
                .and_then(|m| m.population);
            PivotRow {
                label: l,
                name: resolution.label(l).to_owned(),
                other: total - cells.iter().sum::<u64>(),
                cells,
                total,
                population,
            }
        })
        .collect();
    let totals: Vec<u64> = (0..order.len())
        .map(|k| rows.iter().map(|r| r.cells[k]).sum())
        .collect();
    PivotTable {
        category_names: order
            .iter()
            .map(|&c| appeals.categories.name(c).to_owned())
            .collect(),
        categories: order,
        total_other: rows.iter().map(|r| r.other).sum(),
        total: rows.iter().map(|r| r.total).sum(),
        totals,
        rows,
    }
}

/// A value of the table: a count, or per 10,000 residents when `per_capita` (`None` where the
/// population is unknown).
pub fn pivot_value(count: u64, population: Option<u32>, per_capita: bool) -> Option<f64> {
    if per_capita {
        population
            .filter(|&p| p > 0)
            .map(|p| count as f64 * 10_000.0 / f64::from(p))
    } else {
        Some(count as f64)
    }
}

impl PivotTable {
    /// The table as rows of text cells (header first, totals last), as exported and copied.
    /// `names` gives the municipality column's header, the unknown bucket's name, "other",
    /// "total" and the "no data" mark.
    pub fn to_text_rows(&self, per_capita: bool, names: &PivotNames<'_>) -> Vec<Vec<String>> {
        let format = |value: Option<f64>| match value {
            Some(v) if per_capita => {
                let text = format!("{v:.1}");
                if names.decimal_comma {
                    text.replace('.', ",")
                } else {
                    text
                }
            }
            Some(v) => format!("{v:.0}"),
            None => names.no_data.to_owned(),
        };
        let mut out = Vec::with_capacity(self.rows.len() + 2);
        let mut header = vec![names.municipality.to_owned()];
        header.extend(self.category_names.iter().cloned());
        header.push(names.other.to_owned());
        header.push(names.total.to_owned());
        out.push(header);
        for r in &self.rows {
            let mut line = vec![if r.name.is_empty() {
                names.unknown.to_owned()
            } else {
                r.name.clone()
            }];
            line.extend(
                r.cells
                    .iter()
                    .map(|&c| format(pivot_value(c, r.population, per_capita))),
            );
            line.push(format(pivot_value(r.other, r.population, per_capita)));
            line.push(format(pivot_value(r.total, r.population, per_capita)));
            out.push(line);
        }
        let mut totals = vec![names.total.to_owned()];
        totals.extend(self.totals_values(per_capita).into_iter().map(format));
        out.push(totals);
        out
    }

    /// The totals row: each category column, then other and total. Counts; per capita, the sum
    /// over the rows that have a population divided by their population (rows without one are
    /// left out rather than counted as 0 residents).
    pub fn totals_values(&self, per_capita: bool) -> Vec<Option<f64>> {
        if !per_capita {
            return self
                .totals
                .iter()
                .chain([&self.total_other, &self.total])
                .map(|&c| Some(c as f64))
                .collect();
        }
        let known: Vec<&PivotRow> = self
            .rows
            .iter()
            .filter(|r| r.population.is_some())
            .collect();
        let population: u64 = known
            .iter()
            .filter_map(|r| r.population)
            .map(u64::from)
            .sum();
        let rate =
            |count: u64| (population > 0).then(|| count as f64 * 10_000.0 / population as f64);
        (0..self.categories.len())
            .map(|k| {
                rate(
                    known
                        .iter()
                        .map(|r| r.cells.get(k).copied().unwrap_or(0))
                        .sum(),
                )
            })
            .chain([
                rate(known.iter().map(|r| r.other).sum()),
                rate(known.iter().map(|r| r.total).sum()),
            ])
            .collect()
    }

    /// CSV, UTF-8 with a byte-order mark (Excel then reads Cyrillic correctly), CRLF line ends;
    /// `;`-separated with decimal commas for Russian (as Russian Excel expects), `,` and decimal
    /// points otherwise.
    pub fn to_csv(&self, per_capita: bool, names: &PivotNames<'_>) -> Vec<u8> {
        let mut out = vec![0xEF, 0xBB, 0xBF];
        let mut writer = csv::WriterBuilder::new()
            .delimiter(if names.decimal_comma { b';' } else { b',' })
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        for row in self.to_text_rows(per_capita, names) {
            writer.write_record(&row).ok();
        }
        out.extend(writer.into_inner().unwrap_or_default());
        out
    }

    /// Tab-separated text for the clipboard (pastes into Excel and LibreOffice as cells).
    pub fn to_tsv(&self, per_capita: bool, names: &PivotNames<'_>) -> String {
        self.to_text_rows(per_capita, names)
            .into_iter()
            .map(|row| row.join("\t"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Localised names used in exported tables.
#[derive(Clone, Copy, Debug)]
pub struct PivotNames<'a> {
    pub municipality: &'a str,
    pub unknown: &'a str,
    pub other: &'a str,
    pub total: &'a str,
    pub no_data: &'a str,
    /// Decimal comma and `;` separators (Russian), else decimal point and `,`.
    pub decimal_comma: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> PivotTable {
        PivotTable {
            categories: vec![0, 1],
            category_names: vec!["ЖКХ".into(), "Дороги".into()],
            rows: vec![
                PivotRow {
                    label: 0,
                    name: "Тюмень".into(),
                    cells: vec![30, 10],
                    other: 5,
                    total: 45,
                    population: Some(900_000),
                },
                PivotRow {
                    label: 26,
                    name: String::new(),
                    cells: vec![1, 0],
                    other: 0,
                    total: 1,
                    population: None,
                },
            ],
            totals: vec![31, 10],
            total_other: 5,
            total: 46,
        }
    }

    const NAMES: PivotNames<'static> = PivotNames {
        municipality: "Муниципалитет",
        unknown: "(неизвестно)",
        other: "Другие",
        total: "Итого",
        no_data: "нет данных",
        decimal_comma: true,
    };

    #[test]
    fn csv_has_a_bom_semicolons_and_totals() {
        let csv = table().to_csv(false, &NAMES);
        assert_eq!(
            &csv[..3],
            &[0xEF, 0xBB, 0xBF],
            "UTF-8 byte-order mark for Excel"
        );
        let text = String::from_utf8(csv[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], "Муниципалитет;ЖКХ;Дороги;Другие;Итого");
        assert_eq!(lines[1], "Тюмень;30;10;5;45");
        assert_eq!(lines[2], "(неизвестно);1;0;0;1");
        assert_eq!(lines[3], "Итого;31;10;5;46");
    }

    #[test]
    fn per_capita_values_and_no_data() {
        let rows = table().to_text_rows(true, &NAMES);
        assert_eq!(rows[1], vec!["Тюмень", "0,3", "0,1", "0,1", "0,5"]);
        assert_eq!(rows[2][1], "нет данных", "no population, no rate (never 0)");
        // Totals per capita cover the rows with a population only.
        assert_eq!(rows[3], vec!["Итого", "0,3", "0,1", "0,1", "0,5"]);
        let english = PivotNames {
            decimal_comma: false,
            ..NAMES
        };
        assert_eq!(table().to_text_rows(true, &english)[1][1], "0.3");
        let csv = String::from_utf8(table().to_csv(false, &english)[3..].to_vec()).unwrap();
        assert!(csv.starts_with("Муниципалитет,ЖКХ,Дороги"), "{csv}");
        assert_eq!(
            table().to_tsv(false, &NAMES).lines().next(),
            Some("Муниципалитет\tЖКХ\tДороги\tДругие\tИтого")
        );
    }
}
