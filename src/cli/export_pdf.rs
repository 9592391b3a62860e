//! The PDF briefing of `teplokarta export … --out FILE.pdf`: one A4 landscape page per view
//! with the title, the rendered map, the top municipalities and (with a problem profile) the
//! top problem zones after k-anonymity, the weekly counts as bars, and the provenance line.
//! Text is set in egui's Ubuntu Light, embedded (subset) so Cyrillic renders everywhere.

use anyhow::{Context as _, anyhow};
use jiff::ToSpan as _;
use jiff::civil::Date;
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Size};
use krilla::image::Image;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use serde_json::Value;

use super::export_render::Shown;
use crate::analysis::export::other_name;
use crate::ui::i18n::Lang;
use crate::ui::theme;

/// A4 landscape, PDF points.
const PAGE_W_PT: f32 = 842.0;
const PAGE_H_PT: f32 = 595.0;
const MARGIN_PT: f32 = 28.0;
/// Width of the map on the page; the tables take the rest.
const MAP_W_PT: f32 = 540.0;
/// Rows of the top municipalities / problem zones tables.
const TOP_ROWS: usize = 12;
/// Average advance of a glyph of Ubuntu Light, in ems (for cutting long names and aligning
/// numbers right; generous so that a cut name never reaches the next column).
const AVG_EM: f32 = 0.56;

/// Labels of the page in the export's language.
struct Labels {
    municipalities: &'static str,
    /// The municipalities' header next to a problem profile's zones.
    municipalities_all: &'static str,
    zones: &'static str,
    appeals: &'static str,
    weekly: &'static str,
    rank: &'static str,
    no_rows: &'static str,
    no_zones: &'static str,
    /// A comparison's table header and the letters of its periods.
    changes: &'static str,
    a: &'static str,
    b: &'static str,
}

fn labels(lang: Lang) -> Labels {
    if lang == Lang::En {
        Labels {
            municipalities: "Top municipalities",
            municipalities_all: "Top municipalities (all appeals of the filter)",
            zones: "Top problem zones",
            appeals: "appeals",
            weekly: "Appeals per week",
            rank: "#",
            no_rows: "no municipality with enough appeals",
            no_zones: "no zone with enough appeals",
            changes: "Largest changes, B − A",
            a: "A",
            b: "B",
        }
    } else {
        Labels {
            municipalities: "Муниципалитеты с наибольшим числом обращений",
            municipalities_all: "Муниципалитеты (все обращения фильтра)",
            zones: "Главные проблемные зоны",
            appeals: "обращений",
            weekly: "Обращения по неделям",
            rank: "№",
            no_rows: "нет муниципалитетов с достаточным числом обращений",
            no_zones: "нет зон с достаточным числом обращений",
            changes: "Наибольшие изменения, Б − А",
            a: "А",
            b: "Б",
        }
    }
}

/// One page of the briefing: a shown view, its weekly counts and its rendered map.
pub(super) struct BriefingPage {
    pub shown: Shown,
    /// Appeals per week (Monday) of the view's filter.
    pub weekly: Vec<(Date, u64)>,
    pub image: image::RgbaImage,
}

/// The briefing's bytes: one page per rendered view.
pub(super) fn briefing(pages: &[BriefingPage], lang: Lang) -> anyhow::Result<Vec<u8>> {
    let font = Font::new(epaint_default_fonts::UBUNTU_LIGHT.into(), 0)
        .context("the embedded font cannot be read")?;
    let mut document = Document::new();
    for BriefingPage {
        shown,
        weekly,
        image,
    } in pages
    {
        let settings = PageSettings::from_wh(PAGE_W_PT, PAGE_H_PT).context("page size")?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        draw_page(&mut surface, &font, shown, weekly, image, lang);
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| anyhow!("writing the PDF: {e:?}"))
}

fn color(c: egui::Color32) -> rgb::Color {
    rgb::Color::new(c.r(), c.g(), c.b())
}

fn fill(c: egui::Color32) -> Fill {
    Fill {
        paint: color(c).into(),
        opacity: NormalizedF32::ONE,
        ..Fill::default()
    }
}

/// Text at `(x, y)` (baseline), cut with "…" to `max_w` points.
#[allow(clippy::too_many_arguments)]
fn text(
    surface: &mut Surface<'_>,
    font: &Font,
    x: f32,
    y: f32,
    size: f32,
    c: egui::Color32,
    s: &str,
    max_w: f32,
) {
    let max_chars = (max_w / (size * AVG_EM)).floor().max(1.0) as usize;
    let cut: String = if s.chars().count() > max_chars {
        let mut t: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        s.to_owned()
    };
    surface.set_fill(Some(fill(c)));
    surface.set_stroke(None);
    surface.draw_text(
        Point::from_xy(x, y),
        font.clone(),
        size,
        &cut,
        false,
        TextDirection::Auto,
    );
}

/// Estimated width of `s` at `size` points.
fn text_width(s: &str, size: f32) -> f32 {
    s.chars()
        .map(|c| match c {
            ' ' | '\u{a0}' | '\u{202f}' | '.' | ',' | ':' => 0.25,
            '0'..='9' => 0.52,
            _ => AVG_EM,
        })
        .sum::<f32>()
        * size
}

/// Text ending at `right` (baseline `y`).
#[allow(clippy::too_many_arguments)]
fn text_right(
    surface: &mut Surface<'_>,
    font: &Font,
    right: f32,
    y: f32,
    size: f32,
    c: egui::Color32,
    s: &str,
    max_w: f32,
) {
    let w = text_width(s, size).min(max_w);
    text(surface, font, right - w, y, size, c, s, max_w);
}

/// Text wrapped at spaces into lines of at most `max_w` points; returns the y below it.
#[allow(clippy::too_many_arguments)]
fn wrapped(
    surface: &mut Surface<'_>,
    font: &Font,
    x: f32,
    mut y: f32,
    size: f32,
    c: egui::Color32,
    s: &str,
    max_w: f32,
) -> f32 {
    let max_chars = (max_w / (size * AVG_EM)).floor().max(8.0) as usize;
    let mut line = String::new();
    for word in s.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max_chars {
            text(surface, font, x, y, size, c, &line, max_w);
            y += size * 1.3;
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        text(surface, font, x, y, size, c, &line, max_w);
        y += size * 1.3;
    }
    y
}

fn rect(surface: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32, c: egui::Color32) {
    let mut pb = PathBuilder::new();
    pb.push_rect(
        krilla::geom::Rect::from_xywh(x, y, w.max(0.1), h.max(0.1)).unwrap_or_else(|| {
            krilla::geom::Rect::from_xywh(x, y, 0.1, 0.1).unwrap_or_else(unit_rect)
        }),
    );
    if let Some(path) = pb.finish() {
        surface.set_fill(Some(fill(c)));
        surface.set_stroke(None);
        surface.draw_path(&path);
    }
}

#[allow(clippy::unwrap_used)]
fn unit_rect() -> krilla::geom::Rect {
    // 0,0,1,1 is always a valid rectangle.
    krilla::geom::Rect::from_xywh(0.0, 0.0, 1.0, 1.0).unwrap()
}

fn line(surface: &mut Surface<'_>, from: (f32, f32), to: (f32, f32), c: egui::Color32, w: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(from.0, from.1);
    pb.line_to(to.0, to.1);
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: color(c).into(),
            width: w,
            ..Stroke::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

fn draw_page(
    surface: &mut Surface<'_>,
    font: &Font,
    shown: &Shown,
    weekly: &[(Date, u64)],
    image: &image::RgbaImage,
    lang: Lang,
) {
    let l = labels(lang);
    let dark = theme::PRESENTATION_TITLE_TEXT;
    let note = theme::PRESENTATION_NOTE_TEXT;
    let content_w = PAGE_W_PT - 2.0 * MARGIN_PT;
    // Title and the filter in words.
    let mut y = MARGIN_PT + 16.0;
    y = wrapped(
        surface,
        font,
        MARGIN_PT,
        y,
        16.0,
        dark,
        &shown.title,
        content_w,
    );
    if shown.words != shown.title {
        y = wrapped(
            surface,
            font,
            MARGIN_PT,
            y,
            10.0,
            theme::PRESENTATION_SUBTITLE_TEXT,
            &shown.words,
            content_w,
        );
    }
    let top = y + 4.0;
    // The map.
    let (w_px, h_px) = (image.width().max(1), image.height().max(1));
    let map_h = (MAP_W_PT * h_px as f32 / w_px as f32).min(PAGE_H_PT - top - 150.0);
    let map_w = map_h * w_px as f32 / h_px as f32;
    let picture = Image::from_rgba8(image.as_raw().clone(), w_px, h_px);
    if let Some(size) = Size::from_wh(map_w, map_h) {
        surface.push_transform(&krilla::geom::Transform::from_translate(MARGIN_PT, top));
        surface.draw_image(picture, size);
        surface.pop();
    }
    // Right column: the tables.
    let col_x = MARGIN_PT + MAP_W_PT + 14.0;
    let col_w = PAGE_W_PT - MARGIN_PT - col_x;
    let mut ty = top + 10.0;
    // In problem mode the zones come first; the municipalities count all the filter's appeals.
    let (municipalities_header, municipality_rows) = if shown.zones.is_some() {
        (l.municipalities_all, TOP_ROWS / 2)
    } else {
        (l.municipalities, TOP_ROWS)
    };
    if let Some(zones) = &shown.zones {
        ty = wrapped(surface, font, col_x, ty, 10.0, dark, l.zones, col_w);
        ty = zones_table(surface, font, (col_x, ty + 2.0, col_w), zones, lang, &l) + 10.0;
    }
    if let Some(c) = &shown.compare {
        ty = wrapped(surface, font, col_x, ty, 10.0, dark, l.changes, col_w);
        ty = changes_table(surface, font, (col_x, ty + 2.0, col_w), shown, c, lang, &l) + 10.0;
    }
    ty = wrapped(
        surface,
        font,
        col_x,
        ty,
        10.0,
        dark,
        municipalities_header,
        col_w,
    );
    municipalities_table(
        surface,
        font,
        (col_x, ty + 2.0, col_w),
        shown,
        municipality_rows,
        lang,
        &l,
    );
    // The weekly chart under the map.
    let chart_top = top + map_h + 14.0;
    let provenance_y = PAGE_H_PT - MARGIN_PT - 10.0;
    weekly_chart(
        surface,
        font,
        MARGIN_PT,
        chart_top,
        map_w.max(300.0),
        (provenance_y - 18.0 - chart_top).max(40.0),
        weekly,
        shown.k,
        shown.compare.as_ref().map(|c| (c.a, c.b)),
        lang,
        &l,
    );
    // The provenance line along the bottom.
    wrapped(
        surface,
        font,
        MARGIN_PT,
        provenance_y,
        7.0,
        note,
        &shown.provenance_line,
        content_w,
    );
}

/// A table of the top rows: rank, (class swatch,) name, appeals and one more figure, then the
/// merged "other" row; returns the y below it.
struct Table<'a> {
    x: f32,
    w: f32,
    /// Header of the figure column and each row's figure.
    figure: &'a str,
    rows: Vec<TableRow>,
    other: Option<(String, u64)>,
    empty: &'a str,
}

struct TableRow {
    name: String,
    count: u64,
    figure: Option<String>,
    swatch: Option<egui::Color32>,
}

fn table(
    surface: &mut Surface<'_>,
    font: &Font,
    mut y: f32,
    t: &Table<'_>,
    lang: Lang,
    l: &Labels,
) -> f32 {
    let dark = theme::OVERLAY_TEXT;
    let note = theme::PRESENTATION_NOTE_TEXT;
    let size = 8.0;
    let row_h = 11.5;
    let figure_right = t.x + t.w;
    let count_right = figure_right - 48.0;
    let name_x = t.x + 26.0;
    let name_w = count_right - 40.0 - name_x;
    y += row_h;
    text(surface, font, t.x + 12.0, y, size, note, l.rank, 14.0);
    text_right(surface, font, count_right, y, size, note, l.appeals, 60.0);
    text_right(surface, font, figure_right, y, size, note, t.figure, 44.0);
    line(
        surface,
        (t.x, y + 3.0),
        (t.x + t.w, y + 3.0),
        theme::HATCH_STRIPE,
        0.5,
    );
    if t.rows.is_empty() && t.other.is_none() {
        y += row_h;
        text(surface, font, t.x, y, size, dark, t.empty, t.w);
    }
    for (i, row) in t.rows.iter().enumerate() {
        y += row_h;
        if let Some(c) = row.swatch {
            rect(surface, t.x, y - 7.0, 8.0, 8.0, c);
        }
        text_right(
            surface,
            font,
            t.x + 22.0,
            y,
            size,
            dark,
            &format!("{}", i + 1),
            14.0,
        );
        text(surface, font, name_x, y, size, dark, &row.name, name_w);
        text_right(
            surface,
            font,
            count_right,
            y,
            size,
            dark,
            &lang.number(row.count),
            40.0,
        );
        if let Some(f) = &row.figure {
            text_right(surface, font, figure_right, y, size, dark, f, 44.0);
        }
    }
    if let Some((name, n)) = &t.other {
        y += row_h;
        text(surface, font, name_x, y, size, dark, name, name_w);
        text_right(
            surface,
            font,
            count_right,
            y,
            size,
            dark,
            &lang.number(*n),
            40.0,
        );
    }
    y + 4.0
}

/// The top municipalities of the choropleth (k-anonymity applied) with the metric's value
/// and the legend's class colour.
fn municipalities_table(
    surface: &mut Surface<'_>,
    font: &Font,
    (x, y, w): (f32, f32, f32),
    shown: &Shown,
    rows: usize,
    lang: Lang,
    l: &Labels,
) -> f32 {
    let t = &shown.municipalities;
    let colors = theme::class_colors(&shown.breaks, shown.metric.is_diverging());
    // The first figure is the metric's value unless the metric is the count itself.
    let has_value = t.columns.first().is_some_and(|c| c != "class");
    let table_rows = t
        .rows
        .iter()
        .filter(|r| r.count > 0)
        .take(rows)
        .map(|r| TableRow {
            name: r.name.clone(),
            count: r.count,
            figure: has_value.then(|| {
                r.fields
                    .first()
                    .and_then(Value::as_f64)
                    .map_or_else(|| "—".to_owned(), |v| lang.metric_value(shown.metric, v))
            }),
            swatch: r
                .fields
                .get(usize::from(has_value))
                .and_then(Value::as_u64)
                .and_then(|c| usize::try_from(c).ok())
                .and_then(|c| c.checked_sub(1))
                .and_then(|c| colors.get(c).copied()),
        })
        .collect();
    let metric = lang.texts().metric(shown.metric);
    table(
        surface,
        font,
        y,
        &Table {
            x,
            w,
            figure: if has_value { metric } else { "" },
            rows: table_rows,
            other: t
                .suppression
                .merged_count
                .map(|n| (other_name(t.suppression.k, lang == Lang::En), n)),
            empty: l.no_rows,
        },
        lang,
        l,
    )
}

/// The top problem zones (k-anonymity applied) with their Gi* z.
fn zones_table(
    surface: &mut Surface<'_>,
    font: &Font,
    (x, y, w): (f32, f32, f32),
    zones: &crate::analysis::export::ExportTable,
    lang: Lang,
    l: &Labels,
) -> f32 {
    let gi = zones.columns.iter().position(|c| c == "gi_z");
    let rows = zones
        .rows
        .iter()
        .filter(|r| r.count > 0)
        .take(TOP_ROWS)
        .map(|r| TableRow {
            name: r.name.clone(),
            count: r.count,
            figure: gi
                .and_then(|g| r.fields.get(g))
                .and_then(Value::as_f64)
                .map(|z| lang.decimal(z, 1)),
            swatch: None,
        })
        .collect();
    table(
        surface,
        font,
        y,
        &Table {
            x,
            w,
            figure: "Gi* z",
            rows,
            other: zones
                .suppression
                .merged_count
                .map(|n| (other_name(zones.suppression.k, lang == Lang::En), n)),
            empty: l.no_zones,
        },
        lang,
        l,
    )
}

/// The municipalities of a comparison with the largest changes: rank, the difference's class
/// colour, name, appeals in A and in B, and B − A of the difference's metric (k-anonymity
/// applied: a municipality whose A is withheld has no difference and is not listed).
fn changes_table(
    surface: &mut Surface<'_>,
    font: &Font,
    (x, mut y, w): (f32, f32, f32),
    shown: &Shown,
    c: &super::export_render::ShownComparison,
    lang: Lang,
    l: &Labels,
) -> f32 {
    let t = &shown.municipalities;
    let column = |name: &str| t.columns.iter().position(|c| c == name);
    let (Some(count_a), Some(difference)) = (column("count_a"), column("difference")) else {
        return y;
    };
    let colors = theme::difference_class_colors(c.difference_breaks.len().saturating_sub(1));
    let mut rows: Vec<(&str, u64, u64, f64)> = t
        .rows
        .iter()
        .filter_map(|r| {
            let a = r.fields.get(count_a).and_then(Value::as_u64)?;
            let d = r.fields.get(difference).and_then(Value::as_f64)?;
            Some((r.name.as_str(), a, r.count, d))
        })
        .collect();
    rows.sort_by(|p, q| q.3.abs().total_cmp(&p.3.abs()).then(p.0.cmp(q.0)));
    let dark = theme::OVERLAY_TEXT;
    let note = theme::PRESENTATION_NOTE_TEXT;
    let (size, row_h) = (8.0, 11.5);
    let right = x + w;
    let (d_right, b_right, a_right) = (right, right - 50.0, right - 92.0);
    let name_x = x + 26.0;
    let name_w = a_right - 40.0 - name_x;
    y += row_h;
    text(surface, font, x + 12.0, y, size, note, l.rank, 14.0);
    text_right(surface, font, a_right, y, size, note, l.a, 40.0);
    text_right(surface, font, b_right, y, size, note, l.b, 40.0);
    text_right(
        surface,
        font,
        d_right,
        y,
        size,
        note,
        &format!("{} − {}", l.b, l.a),
        48.0,
    );
    line(
        surface,
        (x, y + 3.0),
        (right, y + 3.0),
        theme::HATCH_STRIPE,
        0.5,
    );
    if rows.is_empty() {
        y += row_h;
        text(surface, font, x, y, size, dark, l.no_rows, right - x);
    }
    for (i, (name, a, b, d)) in rows.iter().take(TOP_ROWS).enumerate() {
        y += row_h;
        if let Some(color) =
            crate::analysis::class_of(*d, &c.difference_breaks).and_then(|k| colors.get(k).copied())
        {
            rect(surface, x, y - 7.0, 8.0, 8.0, color);
        }
        text_right(
            surface,
            font,
            x + 22.0,
            y,
            size,
            dark,
            &format!("{}", i + 1),
            14.0,
        );
        text(surface, font, name_x, y, size, dark, name, name_w);
        text_right(
            surface,
            font,
            a_right,
            y,
            size,
            dark,
            &lang.number(*a),
            40.0,
        );
        text_right(
            surface,
            font,
            b_right,
            y,
            size,
            dark,
            &lang.number(*b),
            40.0,
        );
        text_right(
            surface,
            font,
            d_right,
            y,
            size,
            dark,
            &crate::ui::compare::signed_value(lang, c.difference_metric, *d),
            48.0,
        );
    }
    y + 4.0
}

/// Bars of the appeals per week; a week with 1..k-1 appeals is drawn grey at the height of k
/// (its exact count is not shown). With the periods A and B of a comparison, A's weeks are
/// drawn in A's colour and B's in B's.
#[allow(clippy::too_many_arguments)]
fn weekly_chart(
    surface: &mut Surface<'_>,
    font: &Font,
    x: f32,
    y: f32,
    w: f32,
    h: f32,
    weeks: &[(Date, u64)],
    k: u64,
    periods: Option<((Date, Date), (Date, Date))>,
    lang: Lang,
    l: &Labels,
) {
    let dark = theme::OVERLAY_TEXT;
    let note = theme::PRESENTATION_NOTE_TEXT;
    text(surface, font, x, y + 9.0, 9.0, dark, l.weekly, w);
    if let Some((a, b)) = periods {
        // Which colour is which period.
        let mut lx = x + w * 0.35;
        for (letter, (from, to), c) in [(l.a, a, theme::COMPARE_A_BAR), (l.b, b, theme::BAR_FILL)] {
            rect(surface, lx, y + 2.0, 8.0, 8.0, c);
            let words = format!(
                "{letter}: {}",
                crate::ui::describe::period_in_words(Some(from), Some(to), lang)
            );
            text(
                surface,
                font,
                lx + 11.0,
                y + 9.0,
                7.5,
                dark,
                &words,
                w * 0.32,
            );
            lx += w * 0.33;
        }
    }
    let top = y + 16.0;
    let base = y + h - 10.0;
    let plot_h = (base - top).max(10.0);
    let max = weeks.iter().map(|(_, n)| *n).max().unwrap_or(0).max(k);
    line(surface, (x, base), (x + w, base), note, 0.6);
    if weeks.is_empty() {
        return;
    }
    text(
        surface,
        font,
        x + w + 3.0,
        top + 6.0,
        7.0,
        note,
        &lang.number(max),
        40.0,
    );
    line(surface, (x, top), (x + w, top), theme::HATCH_STRIPE, 0.3);
    let slot = w / weeks.len() as f32;
    for (i, (_, n)) in weeks.iter().enumerate() {
        let small = *n > 0 && *n < k;
        let shown_n = if small { k } else { *n };
        let bar_h = plot_h * shown_n as f32 / max as f32;
        let week = weeks.get(i).map(|w| w.0);
        let in_a = |(from, to): (Date, Date)| {
            week.and_then(|m| m.checked_add(6.days()).ok().map(|sunday| (m, sunday)))
                .is_some_and(|(monday, sunday)| monday <= to && sunday >= from)
        };
        let c = match periods {
            _ if small => theme::HATCH_STRIPE,
            Some((_, b)) if in_a(b) => theme::BAR_FILL,
            Some((a, _)) if in_a(a) => theme::COMPARE_A_BAR,
            Some(_) => theme::HATCH_BACKGROUND,
            None => theme::BAR_FILL,
        };
        rect(
            surface,
            x + i as f32 * slot + slot * 0.1,
            base - bar_h,
            (slot * 0.8).max(0.3),
            bar_h,
            c,
        );
    }
    if let (Some((first, _)), Some((last, _))) = (weeks.first(), weeks.last()) {
        text(
            surface,
            font,
            x,
            base + 8.0,
            7.0,
            note,
            &first.to_string(),
            80.0,
        );
        text(
            surface,
            font,
            x + w - 42.0,
            base + 8.0,
            7.0,
            note,
            &last.to_string(),
            80.0,
        );
    }
}
