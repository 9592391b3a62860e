//! The built-in offline basemap's reference extras, drawn over the land and municipality layers:
//! the region's settlements (dots and names, bigger towns first, smaller ones as the map zooms
//! in and only where their name does not collide with one already placed) and a scale bar with
//! a round length. The label placement and the scale arithmetic are plain functions, tested
//! without a screen.

use egui::{Align2, FontId, Pos2, Rect, Response, Stroke, Ui, Vec2, pos2, vec2};
use walkers::{MapMemory, Plugin, Projector};

use super::ScreenTransform;
use crate::spatial::SettlementFact;
use crate::spatial::projection::{
    WORLD_M, ground_scale_at_mercator_y_m, mercator_m_from_unit, mercator_unit_from_lon_lat,
};
use crate::ui::theme;

/// Smallest map zoom at which a settlement of `population` is shown: cities always, smaller
/// places as the map zooms in (unknown population: only when zoomed in close).
pub fn min_zoom_for_population(population: Option<u32>) -> f64 {
    match population {
        Some(p) if p >= 50_000 => 0.0,
        Some(p) if p >= 10_000 => 6.0,
        Some(p) if p >= 3_000 => 7.0,
        Some(p) if p >= 1_000 => 8.0,
        _ => 9.0,
    }
}

/// Where a population falls between a village and the regional capital, 0..=1, on a log scale.
fn population_weight(population: Option<u32>) -> f32 {
    let p = f64::from(population.unwrap_or(0).max(1));
    let (low, high) = (
        theme::SETTLEMENT_SMALL_POPULATION,
        theme::SETTLEMENT_LARGE_POPULATION,
    );
    ((p.log10() - low.log10()) / (high.log10() - low.log10())).clamp(0.0, 1.0) as f32
}

/// Font size of a settlement's label: grows with the logarithm of its population.
pub fn label_font_size(population: Option<u32>) -> f32 {
    let w = population_weight(population);
    theme::SETTLEMENT_LABEL_MIN_SIZE
        + (theme::SETTLEMENT_LABEL_MAX_SIZE - theme::SETTLEMENT_LABEL_MIN_SIZE) * w
}

/// Radius of a settlement's dot, screen points.
pub fn dot_radius_px(population: Option<u32>) -> f32 {
    let w = population_weight(population);
    theme::SETTLEMENT_DOT_MIN_PX + (theme::SETTLEMENT_DOT_MAX_PX - theme::SETTLEMENT_DOT_MIN_PX) * w
}

/// A settlement whose dot and name fit on the screen.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedSettlement {
    /// Index into the settlements given to [`place_settlements`].
    pub index: usize,
    pub dot_px: Pos2,
    pub dot_radius_px: f32,
    /// Where the name goes (to the right of the dot, or to the left when the right is taken).
    pub label_rect_px: Rect,
    pub font_size: f32,
}

/// Chooses which settlements to show and where their names go: most populous first, only those
/// [`min_zoom_for_population`] allows at `zoom`, whose dot is inside `clip_px`, and whose name
/// (right of the dot, else left of it) overlaps no name or dot placed before. `measure` gives a
/// label's size in points for a text and font size.
pub fn place_settlements(
    settlements: &[SettlementFact],
    transform: &ScreenTransform,
    zoom: f64,
    clip_px: Rect,
    mut measure: impl FnMut(&str, f32) -> Vec2,
) -> Vec<PlacedSettlement> {
    let mut order: Vec<usize> = (0..settlements.len()).collect();
    order.sort_by_key(|&i| {
        std::cmp::Reverse(settlements.get(i).and_then(|s| s.population).unwrap_or(0))
    });
    let mut taken: Vec<Rect> = Vec::new();
    let mut placed = Vec::new();
    for index in order {
        let Some(s) = settlements.get(index) else {
            continue;
        };
        if zoom < min_zoom_for_population(s.population) {
            continue;
        }
        let (x, y) = mercator_unit_from_lon_lat(s.lon, s.lat);
        let dot_px = transform.to_screen([x, y]);
        if !clip_px.contains(dot_px) {
            continue;
        }
        let radius = dot_radius_px(s.population);
        let font_size = label_font_size(s.population);
        let size = measure(s.name, font_size) + Vec2::splat(2.0 * theme::SETTLEMENT_LABEL_PAD_PX);
        let gap = radius + theme::SETTLEMENT_LABEL_GAP_PX;
        let dot_rect = Rect::from_center_size(dot_px, Vec2::splat(2.0 * radius));
        let candidates = [
            Align2::LEFT_CENTER.anchor_size(dot_px + vec2(gap, 0.0), size),
            Align2::RIGHT_CENTER.anchor_size(dot_px - vec2(gap, 0.0), size),
        ];
        let free = |r: &Rect| !taken.iter().any(|t| t.intersects(*r));
        if !free(&dot_rect) {
            continue;
        }
        let Some(label_rect_px) = candidates.into_iter().find(free) else {
            continue;
        };
        taken.push(label_rect_px);
        taken.push(dot_rect);
        placed.push(PlacedSettlement {
            index,
            dot_px,
            dot_radius_px: radius,
            label_rect_px,
            font_size,
        });
    }
    placed
}

/// Draws the region's settlements: `walkers::Map::with_plugin(SettlementLayer { settlements:
/// spatial::settlements() })`, after the boundary layer.
pub struct SettlementLayer<'a> {
    pub settlements: &'a [SettlementFact],
}

impl Plugin for SettlementLayer<'_> {
    fn run(
        self: Box<Self>,
        ui: &mut Ui,
        _response: &Response,
        projector: &Projector,
        _memory: &MapMemory,
    ) {
        let clip = projector.clip_rect();
        let painter = ui.painter().with_clip_rect(clip);
        let transform = ScreenTransform::new(projector);
        let placed = place_settlements(
            self.settlements,
            &transform,
            projector.zoom(),
            clip,
            |text, size| {
                painter
                    .layout_no_wrap(
                        text.to_owned(),
                        FontId::proportional(size),
                        theme::SETTLEMENT_LABEL,
                    )
                    .size()
            },
        );
        for p in placed {
            let Some(s) = self.settlements.get(p.index) else {
                continue;
            };
            painter.circle(
                p.dot_px,
                p.dot_radius_px,
                theme::SETTLEMENT_DOT,
                theme::SETTLEMENT_DOT_STROKE,
            );
            painter.rect_filled(p.label_rect_px, 3.0, theme::LABEL_HALO);
            painter.text(
                p.label_rect_px.center(),
                Align2::CENTER_CENTER,
                s.name,
                FontId::proportional(p.font_size),
                theme::SETTLEMENT_LABEL,
            );
        }
    }
}

/// Ground metres per screen point at the screen position `at_px` (Web-Mercator scale there).
pub fn ground_m_per_px(transform: &ScreenTransform, at_px: Pos2) -> f64 {
    let (_, y_m) = mercator_m_from_unit(transform.to_unit(at_px));
    WORLD_M * ground_scale_at_mercator_y_m(y_m) / transform.px_per_unit()
}

/// The longest round length (1, 2 or 5 × 10ⁿ metres, at least 1 m) whose bar is at most
/// 1.5 × `target_px` long at `m_per_px`, and that bar's length in points. A step of the
/// 1-2-5 series is at most 2.5×, so the bar is longer than 0.6 × `target_px` whenever a
/// round length of 1 m or more fits.
pub fn scale_bar_length_m(m_per_px: f64, target_px: f32) -> (f64, f32) {
    if !(m_per_px.is_finite() && m_per_px > 0.0) {
        return (1.0, 0.0);
    }
    let max_m = m_per_px * f64::from(target_px) * 1.5;
    let mut length_m = 1.0;
    let mut decade = 1.0_f64;
    while decade <= max_m {
        for step in [1.0, 2.0, 5.0] {
            let candidate = step * decade;
            if candidate <= max_m {
                length_m = candidate;
            }
        }
        decade *= 10.0;
    }
    (length_m, (length_m / m_per_px) as f32)
}

/// The units a scale bar is labelled in, in the interface's language (`м`/`км`, `m`/`km`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleUnits<'a> {
    pub metres: &'a str,
    pub kilometres: &'a str,
}

/// Label of a round scale length: metres below a kilometre (`500 м`), kilometres above (`2 км`).
pub fn scale_bar_label(length_m: f64, units: ScaleUnits<'_>) -> String {
    if length_m >= 1000.0 {
        format!("{} {}", (length_m / 1000.0).round(), units.kilometres)
    } else {
        format!("{} {}", length_m.round(), units.metres)
    }
}

/// Draws a scale bar with a round length in a corner of the map (bottom-left unless
/// [`ScaleBar::corner`] says otherwise), measured at the map's centre.
pub struct ScaleBar<'a> {
    pub units: ScaleUnits<'a>,
    /// Which corner of the map the bar sits in.
    pub corner: Align2,
}

impl<'a> ScaleBar<'a> {
    /// A bar in the bottom-left corner.
    pub fn new(units: ScaleUnits<'a>) -> Self {
        Self {
            units,
            corner: Align2::LEFT_BOTTOM,
        }
    }
}

impl Plugin for ScaleBar<'_> {
    fn run(
        self: Box<Self>,
        ui: &mut Ui,
        _response: &Response,
        projector: &Projector,
        _memory: &MapMemory,
    ) {
        let clip = projector.clip_rect();
        let transform = ScreenTransform::new(projector);
        let m_per_px = ground_m_per_px(&transform, clip.center());
        let (length_m, length_px) = scale_bar_length_m(m_per_px, theme::SCALE_BAR_TARGET_PX);
        if length_px <= 0.0 || !length_px.is_finite() {
            return;
        }
        let painter = ui.painter().with_clip_rect(clip);
        let label = painter.layout_no_wrap(
            scale_bar_label(length_m, self.units),
            FontId::proportional(theme::SCALE_BAR_FONT_SIZE),
            theme::OVERLAY_TEXT,
        );
        let pad = theme::SCALE_BAR_PAD_PX;
        let tick = theme::SCALE_BAR_TICK_PX;
        let size = vec2(
            length_px.max(label.size().x) + 2.0 * pad,
            label.size().y + tick + 2.0 * pad,
        );
        let margin = Vec2::splat(theme::SCALE_BAR_MARGIN_PX);
        let inner = clip.shrink2(margin);
        let frame = self.corner.align_size_within_rect(size, inner);
        painter.rect_filled(frame, 3.0, theme::OVERLAY_FILL);
        let left = frame.min.x + pad;
        let base_y = frame.max.y - pad;
        let stroke = Stroke::new(theme::SCALE_BAR_STROKE_PX, theme::OVERLAY_TEXT);
        painter.line_segment([pos2(left, base_y), pos2(left + length_px, base_y)], stroke);
        for x in [left, left + length_px] {
            painter.line_segment([pos2(x, base_y), pos2(x, base_y - tick)], stroke);
        }
        painter.galley(pos2(left, frame.min.y + pad), label, theme::OVERLAY_TEXT);
    }
}
