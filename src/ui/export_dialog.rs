//! File → Export map…: the dialog that exports the view on screen for a meeting or a report —
//! the format (PNG, PDF briefing, GIF playback, CSV or GeoJSON of the aggregates), the file,
//! the title, the size and print scale, k-anonymity and the GIF's frames — and the result of
//! the last export. The export itself runs in the background (see `app::export`).

use std::path::{Path, PathBuf};

use egui::RichText;

use super::command::Command;
use super::i18n::Lang;
use super::theme;
use crate::analysis::export::DEFAULT_K;

/// The formats of File → Export map…, in menu order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Png,
    Pdf,
    Gif,
    Csv,
    GeoJson,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::Png,
        ExportFormat::Pdf,
        ExportFormat::Gif,
        ExportFormat::Csv,
        ExportFormat::GeoJson,
    ];

    /// The file extension, which `teplokarta export` takes the format from.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Png => "png",
            ExportFormat::Pdf => "pdf",
            ExportFormat::Gif => "gif",
            ExportFormat::Csv => "csv",
            ExportFormat::GeoJson => "geojson",
        }
    }

    /// A rendered map (PNG, PDF, GIF) rather than a table of aggregates.
    pub fn is_rendered(self) -> bool {
        matches!(
            self,
            ExportFormat::Png | ExportFormat::Pdf | ExportFormat::Gif
        )
    }
}

/// The export dialog's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportDialog {
    pub format: ExportFormat,
    /// The file to write (its extension follows the format).
    pub path: String,
    /// The title (empty: the view's name or the filter in words).
    pub title: String,
    /// Map size in points and pixels per point.
    pub width_pt: u32,
    pub height_pt: u32,
    pub scale: u8,
    /// k-anonymity: municipalities and zones with fewer appeals are merged or hidden.
    pub k: u64,
    /// GIF: daily frames instead of weekly, and a moving window instead of cumulative.
    pub daily: bool,
    pub moving: bool,
    /// An export is running.
    pub running: bool,
    /// The last export's result: what it printed, or the error.
    pub result: Option<Result<String, String>>,
    /// The open table is grouped in the database, with this many appeals: an export reads
    /// its rows (said before it starts).
    pub loads_rows: Option<u64>,
}

impl ExportDialog {
    /// A dialog for a file in `dir` named after today.
    pub fn new(dir: &Path, today: jiff::civil::Date) -> Self {
        let mut d = Self {
            format: ExportFormat::Png,
            path: String::new(),
            title: String::new(),
            width_pt: 1600,
            height_pt: 1000,
            scale: 1,
            k: DEFAULT_K,
            daily: false,
            moving: false,
            running: false,
            result: None,
            loads_rows: None,
        };
        d.path = dir
            .join(format!("teplokarta-{today}.png"))
            .display()
            .to_string();
        d
    }

    /// Switches the format, and the path's extension with it.
    pub fn set_format(&mut self, format: ExportFormat) {
        self.format = format;
        let path = PathBuf::from(self.path.trim());
        if !self.path.trim().is_empty() {
            self.path = path
                .with_extension(format.extension())
                .display()
                .to_string();
        }
    }
}

/// The export dialog (a modal window).
pub fn export_dialog_ui(
    ctx: &egui::Context,
    lang: Lang,
    dialog: &mut ExportDialog,
    commands: &mut Vec<Command>,
) {
    let t = lang.texts();
    let modal = egui::Modal::new(egui::Id::unique("export_dialog")).show(ctx, |ui| {
        ui.set_width(560.0);
        ui.heading(t.export_dialog_title);
        ui.label(RichText::new(t.export_privacy_note).small().weak());
        ui.separator();
        ui.label(RichText::new(t.export_format).strong());
        for format in ExportFormat::ALL {
            if ui
                .radio(dialog.format == format, format_label(lang, format))
                .clicked()
            {
                dialog.set_format(format);
            }
        }
        ui.separator();
        egui::Grid::new("export_grid")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                let label = ui.label(t.path);
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(&mut dialog.path).desired_width(360.0))
                        .labelled_by(label.id);
                    if ui.button(t.browse).clicked() {
                        commands.push(Command::BrowseExport);
                    }
                });
                ui.end_row();
                let label = ui.label(t.export_title_label);
                ui.add(
                    egui::TextEdit::singleline(&mut dialog.title)
                        .hint_text(t.export_title_hint)
                        .desired_width(360.0),
                )
                .labelled_by(label.id);
                ui.end_row();
                if dialog.format.is_rendered() {
                    let label = ui.label(t.export_size);
                    ui.horizontal(|ui| {
                        ui.add(
                            egui::DragValue::new(&mut dialog.width_pt)
                                .range(320..=8000)
                                .speed(10),
                        )
                        .labelled_by(label.id);
                        ui.label("×");
                        ui.add(
                            egui::DragValue::new(&mut dialog.height_pt)
                                .range(240..=8000)
                                .speed(10),
                        )
                        .labelled_by(label.id);
                        ui.label(t.export_points);
                    });
                    ui.end_row();
                    ui.label(t.export_scale);
                    ui.horizontal(|ui| {
                        for s in [1u8, 2, 4] {
                            if ui
                                .selectable_label(dialog.scale == s, format!("{s}×"))
                                .clicked()
                            {
                                dialog.scale = s;
                            }
                        }
                    });
                    ui.end_row();
                }
                if dialog.format == ExportFormat::Gif {
                    ui.label(t.export_frames);
                    ui.horizontal(|ui| {
                        ui.checkbox(&mut dialog.daily, t.export_daily);
                        ui.checkbox(&mut dialog.moving, t.export_moving);
                    });
                    ui.end_row();
                }
                let label = ui.label(t.export_k);
                ui.add(egui::DragValue::new(&mut dialog.k).range(1..=1000))
                    .labelled_by(label.id);
                ui.end_row();
            });
        ui.label(RichText::new(t.export_k_hint).small().weak());
        ui.separator();
        match &dialog.result {
            Some(Ok(text)) => {
                ui.label(RichText::new(t.export_done).strong());
                ui.label(RichText::new(text).small().monospace());
            }
            Some(Err(error)) => {
                ui.label(RichText::new(error).color(theme::ERROR_TEXT));
            }
            None => {}
        }
        if let Some(rows) = dialog.loads_rows {
            ui.label(
                RichText::new(format!("{} ({})", t.export_loads_rows, lang.number(rows)))
                    .color(theme::WARNING_TEXT),
            );
        }
        ui.horizontal(|ui| {
            let ready = !dialog.path.trim().is_empty() && !dialog.running;
            if ui
                .add_enabled(ready, egui::Button::new(t.export_run))
                .clicked()
            {
                commands.push(Command::StartExport);
            }
            if dialog.running {
                ui.spinner();
                ui.label(t.export_running);
            }
            if ui.button(t.close).clicked() {
                commands.push(Command::CloseExport);
            }
        });
    });
    if modal.should_close() && !dialog.running {
        commands.push(Command::CloseExport);
    }
}

/// What a format's radio button says.
pub fn format_label(lang: Lang, format: ExportFormat) -> &'static str {
    let t = lang.texts();
    match format {
        ExportFormat::Png => t.export_png,
        ExportFormat::Pdf => t.export_pdf,
        ExportFormat::Gif => t.export_gif,
        ExportFormat::Csv => t.export_format_csv,
        ExportFormat::GeoJson => t.export_geojson,
    }
}
