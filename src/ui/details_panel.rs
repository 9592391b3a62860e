//! The details of the selected municipality: counts by category (bar chart), appeals per week
//! (line chart), status shares, days to resolution (median and 90th percentile), the top
//! settlements and addresses, and "zoom to".

use egui::{RichText, Ui};
use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints};

use super::command::Command;
use super::i18n::Lang;
use super::theme;
use crate::analysis::{Details, date_of_day};
use crate::data::Appeals;

/// Draws the panel for `details` of the municipality `name`. `grouped`: the table is read
/// grouped in the database, whose groups hold no answer times and addresses.
pub fn details_panel_ui(
    ui: &mut Ui,
    lang: Lang,
    name: &str,
    details: &Details,
    appeals: &Appeals,
    grouped: bool,
    commands: &mut Vec<Command>,
) {
    let t = lang.texts();
    ui.horizontal(|ui| {
        ui.heading(if name.is_empty() {
            t.unknown_municipality
        } else {
            name
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button(t.close).clicked() {
                commands.push(Command::Select(None));
            }
            if ui.button(t.zoom_to).clicked() {
                commands.push(Command::ZoomTo(details.label));
            }
        });
    });
    ui.label(format!(
        "{}: {}",
        t.appeals_in_filter,
        lang.number(details.total)
    ));
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            // Status shares.
            ui.label(RichText::new(t.by_status).strong());
            for (status, n) in &details.by_status {
                ui.label(format!(
                    "{}: {} ({})",
                    t.status(appeals.statuses.name(*status)),
                    lang.number(*n),
                    lang.percent(*n, details.total)
                ));
            }
            let days = |d: Option<f64>| d.map_or_else(|| "—".to_owned(), |d| lang.decimal(d, 1));
            if grouped {
                ui.label(
                    RichText::new(format!("{}: {}", t.median_days, t.needs_rows))
                        .color(theme::WARNING_TEXT),
                );
            } else {
                ui.label(format!(
                    "{}: {} · {}: {} ({} {})",
                    t.median_days,
                    days(details.resolution_median_days),
                    t.p90_days,
                    days(details.resolution_p90_days),
                    lang.number(details.answered),
                    t.answered
                ));
            }
            ui.separator();

            // Categories, as horizontal bars.
            ui.label(RichText::new(t.by_category).strong());
            let shown: Vec<&(u32, u64)> = details.by_category.iter().take(15).collect();
            let bars: Vec<Bar> = shown
                .iter()
                .enumerate()
                .map(|(i, (category, n))| {
                    Bar::new((shown.len() - 1 - i) as f64, *n as f64)
                        .name(appeals.categories.name(*category))
                        .fill(theme::BAR_FILL)
                })
                .collect();
            let names: Vec<String> = shown
                .iter()
                .rev()
                .map(|(c, _)| appeals.categories.name(*c).to_owned())
                .collect();
            Plot::new("details_categories")
                .height(24.0 * shown.len().max(1) as f32 + 30.0)
                .allow_drag(false)
                .allow_zoom(false)
                .allow_scroll(false)
                .show_axes([true, true])
                .y_axis_formatter(move |mark, _| {
                    names.get(mark.value as usize).cloned().unwrap_or_default()
                })
                .show(ui, |plot| {
                    plot.bar_chart(BarChart::new(t.by_category, bars).horizontal())
                });
            ui.separator();

            // Appeals per week.
            ui.label(RichText::new(t.per_week).strong());
            let points: PlotPoints = details
                .weekly
                .iter()
                .map(|&(day, n)| [f64::from(day), n as f64])
                .collect();
            Plot::new("details_weekly")
                .height(140.0)
                .allow_drag(false)
                .allow_zoom(false)
                .allow_scroll(false)
                .x_axis_formatter(move |mark, _| lang.date(date_of_day(mark.value as i32)))
                .show(ui, |plot| {
                    plot.line(Line::new(t.per_week, points).color(theme::LINE_COLOR))
                });
            ui.separator();

            ui.label(RichText::new(t.top_settlements).strong());
            for (s, n) in &details.top_settlements {
                ui.label(format!(
                    "{} — {}",
                    appeals.settlements.name(*s),
                    lang.number(*n)
                ));
            }
            ui.label(RichText::new(t.top_addresses).strong());
            if grouped {
                ui.label(RichText::new(t.needs_rows).color(theme::WARNING_TEXT));
            }
            for (a, n) in &details.top_addresses {
                ui.label(format!(
                    "{} — {}",
                    appeals.addresses.name(*a),
                    lang.number(*n)
                ));
            }
        });
}
