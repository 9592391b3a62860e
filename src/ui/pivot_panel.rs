//! The municipality × category table: sortable by any column, totals row and column, counts or
//! per 10,000 residents, CSV export and copy to the clipboard. A click on a row selects the
//! municipality.

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::command::Command;
use super::i18n::Lang;
use crate::analysis::{PivotNames, PivotRow, PivotTable, pivot_value};

/// What the table is sorted by: kept by meaning, so a filter change that reorders the
/// category columns does not move the sort to another category.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Category(u32),
    Other,
    #[default]
    Total,
}

/// Sorting and display state of the table (kept by the app).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PivotState {
    pub sort: SortKey,
    pub ascending: bool,
    pub per_capita: bool,
}

/// Localised export names.
pub fn pivot_names(lang: Lang) -> PivotNames<'static> {
    let t = lang.texts();
    PivotNames {
        municipality: t.municipality,
        unknown: t.unknown_municipality,
        other: t.other,
        total: t.total,
        no_data: t.no_data_short,
        decimal_comma: lang == Lang::Ru,
    }
}

fn sort_value(row: &PivotRow, key: SortKey, table: &PivotTable, per_capita: bool) -> f64 {
    let count = match key {
        SortKey::Category(code) => table
            .categories
            .iter()
            .position(|&c| c == code)
            .and_then(|k| row.cells.get(k).copied())
            .unwrap_or(0),
        SortKey::Other => row.other,
        SortKey::Name | SortKey::Total => row.total,
    };
    pivot_value(count, row.population, per_capita).unwrap_or(f64::NEG_INFINITY)
}

/// Sort key of header column `c` (0 = name, then the categories, other, total).
fn key_of_column(table: &PivotTable, c: usize) -> SortKey {
    let k = table.categories.len();
    match c {
        0 => SortKey::Name,
        c if c <= k => table
            .categories
            .get(c - 1)
            .map_or(SortKey::Total, |&code| SortKey::Category(code)),
        c if c == k + 1 => SortKey::Other,
        _ => SortKey::Total,
    }
}

/// Draws the table.
pub fn pivot_panel_ui(
    ui: &mut Ui,
    lang: Lang,
    table: &PivotTable,
    state: &mut PivotState,
    selected: Option<u32>,
    commands: &mut Vec<Command>,
) {
    let t = lang.texts();
    ui.horizontal(|ui| {
        ui.label(RichText::new(t.pivot_title).strong());
        ui.checkbox(&mut state.per_capita, t.per_capita);
        if ui.button(t.export_csv).clicked() {
            commands.push(Command::ExportPivotCsv);
        }
        if ui.button(t.copy).clicked() {
            commands.push(Command::CopyPivot);
        }
    });
    let k = table.categories.len();
    let mut order: Vec<usize> = (0..table.rows.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (&table.rows[a], &table.rows[b]);
        let ord = if state.sort == SortKey::Name {
            ra.name.cmp(&rb.name)
        } else {
            let value = |r| sort_value(r, state.sort, table, state.per_capita);
            value(ra).total_cmp(&value(rb))
        };
        if state.ascending { ord } else { ord.reverse() }
    });
    let format = |count: u64, population: Option<u32>| match pivot_value(
        count,
        population,
        state.per_capita,
    ) {
        Some(v) if state.per_capita => lang.decimal(v, 1),
        Some(v) => lang.number(v as u64),
        None => t.no_data_short.to_owned(),
    };
    let mut clicked_sort = None;
    let mut header_names: Vec<String> = vec![t.municipality.to_owned()];
    header_names.extend(table.category_names.iter().cloned());
    header_names.push(t.other.to_owned());
    header_names.push(t.total.to_owned());
    TableBuilder::new(ui)
        .id_salt("pivot")
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .column(Column::initial(190.0).at_least(120.0))
        .columns(Column::initial(92.0).at_least(50.0), k + 2)
        .header(34.0, |mut header| {
            for (c, name) in header_names.iter().enumerate() {
                header.col(|ui| {
                    let arrow = if key_of_column(table, c) == state.sort {
                        if state.ascending { " ⏶" } else { " ⏷" }
                    } else {
                        ""
                    };
                    let response = ui.add(
                        egui::Button::new(RichText::new(format!("{name}{arrow}")).strong())
                            .frame(false)
                            .wrap(),
                    );
                    if response.clicked() {
                        clicked_sort = Some(c);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(20.0, order.len() + 1, |mut row| {
                let index = row.index();
                match order.get(index).and_then(|&i| table.rows.get(i)) {
                    Some(r) => {
                        // Cells are not selectable text, so a click anywhere selects the row.
                        let cell = |ui: &mut Ui, text: RichText| {
                            ui.add(egui::Label::new(text).selectable(false));
                        };
                        row.set_selected(selected == Some(r.label));
                        row.col(|ui| {
                            cell(
                                ui,
                                RichText::new(if r.name.is_empty() {
                                    t.unknown_municipality
                                } else {
                                    r.name.as_str()
                                }),
                            );
                        });
                        for &c in &r.cells {
                            row.col(|ui| cell(ui, RichText::new(format(c, r.population))));
                        }
                        row.col(|ui| cell(ui, RichText::new(format(r.other, r.population))));
                        row.col(|ui| {
                            cell(ui, RichText::new(format(r.total, r.population)).strong())
                        });
                        if row.response().clicked() {
                            commands.push(Command::Select(Some(r.label)));
                        }
                    }
                    None => {
                        // Totals row, formatted like the body.
                        let strong = |ui: &mut Ui, text: String| {
                            ui.add(
                                egui::Label::new(RichText::new(text).strong()).selectable(false),
                            );
                        };
                        row.col(|ui| strong(ui, t.total.to_owned()));
                        for value in table.totals_values(state.per_capita) {
                            let text = match value {
                                Some(v) if state.per_capita => lang.decimal(v, 1),
                                Some(v) => lang.number(v as u64),
                                None => t.no_data_short.to_owned(),
                            };
                            row.col(|ui| strong(ui, text));
                        }
                    }
                }
            });
        });
    if let Some(c) = clicked_sort {
        let key = key_of_column(table, c);
        if key == state.sort {
            state.ascending = !state.ascending;
        } else {
            state.sort = key;
            state.ascending = key == SortKey::Name;
        }
    }
}
