//! File → Import…: the files to import and the target database, a preview of the first rows
//! with the proposed column mapping (each field's column can be changed), the import with a
//! progress bar (rows/s, ETA) and its summary. The work runs in the app's jobs; this draws and
//! pushes [`Command`]s.

use egui::RichText;

use super::command::Command;
use super::i18n::Lang;
use super::theme;
use crate::data::import::Preview;
use crate::data::import::parse::{Field, Mapping};
use crate::data::import::write::{ImportSummary, Progress};

/// The dialog's state.
#[derive(Clone, Debug, Default)]
pub struct ImportDialog {
    /// Input files, one per line.
    pub inputs: String,
    pub target: String,
    /// Forced encoding label, empty = detect.
    pub encoding: String,
    /// Excel sheet, empty = the first.
    pub sheet: String,
    pub preview: Option<Preview>,
    pub preview_error: Option<String>,
    /// The mapping to import with (starts as the preview's).
    pub mapping: Mapping,
    pub running: bool,
    pub progress: Option<Progress>,
    pub result: Option<Result<ImportSummary, String>>,
}

impl ImportDialog {
    /// The input paths.
    pub fn input_paths(&self) -> Vec<std::path::PathBuf> {
        self.inputs
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(std::path::PathBuf::from)
            .collect()
    }
}

/// Draws the dialog.
pub fn import_dialog_ui(
    ctx: &egui::Context,
    lang: Lang,
    dialog: &mut ImportDialog,
    commands: &mut Vec<Command>,
) {
    let t = lang.texts();
    let mut open = true;
    egui::Window::new(t.import_title)
        .id(egui::Id::unique("import_dialog"))
        .open(&mut open)
        .default_width(720.0)
        .show(ctx, |ui| {
            // Label column of a fixed width, so the fields line up and keep their width.
            let label_width = 110.0;
            let field_width = 440.0;
            ui.horizontal(|ui| {
                let label = ui.add_sized([label_width, 18.0], egui::Label::new(t.import_files));
                ui.add(
                    egui::TextEdit::multiline(&mut dialog.inputs)
                        .desired_rows(2)
                        .desired_width(field_width)
                        .hint_text(t.import_files_hint),
                )
                .labelled_by(label.id);
                if ui.button(t.browse).clicked() {
                    commands.push(Command::ImportBrowse(false));
                }
            });
            ui.horizontal(|ui| {
                let label = ui.add_sized([label_width, 18.0], egui::Label::new(t.import_target));
                ui.add(egui::TextEdit::singleline(&mut dialog.target).desired_width(field_width))
                    .labelled_by(label.id);
                if ui.button(t.browse).clicked() {
                    commands.push(Command::ImportBrowse(true));
                }
            });
            ui.horizontal(|ui| {
                let label = ui.add_sized([label_width, 18.0], egui::Label::new(t.import_encoding));
                let shown = if dialog.encoding.is_empty() {
                    t.import_auto.to_owned()
                } else {
                    dialog.encoding.clone()
                };
                egui::ComboBox::from_id_salt("import_encoding")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut dialog.encoding, String::new(), t.import_auto);
                        for e in ["UTF-8", "windows-1251", "KOI8-R"] {
                            ui.selectable_value(&mut dialog.encoding, e.to_owned(), e);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                let label = ui.label(t.import_sheet);
                ui.add(egui::TextEdit::singleline(&mut dialog.sheet).desired_width(140.0))
                    .labelled_by(label.id);
            });
            let has_input = !dialog.input_paths().is_empty();
            if ui
                .add_enabled(
                    has_input && !dialog.running,
                    egui::Button::new(t.import_preview),
                )
                .clicked()
            {
                commands.push(Command::ImportPreview);
            }
            if let Some(err) = &dialog.preview_error {
                ui.label(RichText::new(err).color(theme::ERROR_TEXT));
            }
            if let Some(preview) = &dialog.preview {
                ui.separator();
                ui.label(RichText::new(format!("{:?}", preview.kind)).weak().small());
                ui.label(RichText::new(t.import_mapping).strong());
                egui::Grid::new("import_mapping")
                    .num_columns(4)
                    .striped(true)
                    .show(ui, |ui| {
                        for (k, field) in Field::ALL.iter().enumerate() {
                            let label = ui.label(field.key());
                            let current = dialog.mapping.columns.get(field).cloned();
                            let mut chosen = current.clone();
                            egui::ComboBox::from_id_salt(("import_field", k))
                                .selected_text(current.clone().unwrap_or_else(|| "—".to_owned()))
                                .width(180.0)
                                .show_ui(ui, |ui| {
                                    ui.selectable_value(&mut chosen, None, "—");
                                    for h in &preview.headers {
                                        ui.selectable_value(&mut chosen, Some(h.clone()), h);
                                    }
                                })
                                .response
                                .labelled_by(label.id);
                            if chosen != current {
                                match chosen {
                                    Some(c) => dialog.mapping.columns.insert(*field, c),
                                    None => dialog.mapping.columns.remove(field),
                                };
                            }
                            if k % 2 == 1 {
                                ui.end_row();
                            }
                        }
                    });
                ui.label(RichText::new(t.import_first_rows).strong());
                egui::ScrollArea::both()
                    .id_salt("import_rows")
                    .max_height(180.0)
                    .show(ui, |ui| {
                        egui::Grid::new("import_rows_grid")
                            .striped(true)
                            .show(ui, |ui| {
                                for h in &preview.headers {
                                    ui.label(RichText::new(h).strong());
                                }
                                ui.end_row();
                                for row in &preview.rows {
                                    for v in row {
                                        let short: String = v.chars().take(40).collect();
                                        ui.label(short);
                                    }
                                    ui.end_row();
                                }
                            });
                    });
                let ready = !dialog.target.trim().is_empty()
                    && dialog.mapping.columns.contains_key(&Field::ReceivedAt)
                    && dialog.mapping.columns.contains_key(&Field::Category);
                if !ready {
                    ui.label(RichText::new(t.import_needs).color(theme::WARNING_TEXT));
                }
                if ui
                    .add_enabled(ready && !dialog.running, egui::Button::new(t.import_start))
                    .clicked()
                {
                    commands.push(Command::StartImport);
                }
            }
            if let Some(p) = &dialog.progress
                && dialog.running
            {
                let share = if p.total > 0 {
                    p.done as f32 / p.total as f32
                } else {
                    0.0
                };
                let eta = p
                    .eta_s()
                    .map_or(String::new(), |s| format!(" · ETA {}", lang.decimal(s, 0)));
                ui.add(egui::ProgressBar::new(share).text(format!(
                    "{} {} · {} {}{eta}",
                    lang.number(p.rows),
                    t.import_rows,
                    lang.number(p.rows_per_s() as u64),
                    t.import_rows_per_s
                )));
            } else if dialog.running {
                ui.spinner();
            }
            match &dialog.result {
                Some(Ok(summary)) => {
                    for f in &summary.files {
                        ui.label(format!(
                            "{}: {} {} · {} {} · {} {} · {} {} · {} {}",
                            f.path.display(),
                            t.import_imported,
                            lang.number(f.imported),
                            t.import_updated,
                            lang.number(f.updated),
                            t.import_unchanged,
                            lang.number(f.unchanged),
                            t.import_rejected,
                            lang.number(f.rejected),
                            t.no_coordinates,
                            lang.number(f.without_coordinates)
                        ));
                        for (reason, n) in &f.rejected_by_reason {
                            ui.label(RichText::new(format!("{n}: {reason}")).small());
                        }
                        if let Some(report) = &f.report {
                            ui.label(
                                RichText::new(format!("{} {}", t.import_report, report.display()))
                                    .small(),
                            );
                        }
                    }
                    if ui.button(t.import_open_target).clicked() {
                        // A PostgreSQL target opens as a connection (the URL as typed: the
                        // summary names it without the password).
                        commands.push(
                            match crate::data::Source::parse(dialog.target.trim(), None) {
                                crate::data::Source::Postgres { url, table } => {
                                    Command::Connect { url, table }
                                }
                                crate::data::Source::Sqlite(_) => {
                                    Command::OpenDatabase(summary.target.clone())
                                }
                            },
                        );
                    }
                }
                Some(Err(err)) => {
                    ui.label(RichText::new(err).color(theme::ERROR_TEXT));
                }
                None => {}
            }
        });
    if !open {
        commands.push(Command::CloseImport);
    }
}
