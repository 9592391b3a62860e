//! The theme: every colour, ramp and font size of the app lives here (rerun's design-token
//! habit), so the map, legend and panels stay consistent and colour-blind-safe. `clippy.toml`
//! forbids making colours anywhere else.
#![allow(clippy::disallowed_methods)]

use egui::{Color32, Stroke};

/// Outside the region.
pub const MAP_OUTSIDE: Color32 = Color32::from_rgb(0xDD, 0xDB, 0xD4);
/// Municipality fill (light, so points stay readable).
pub const MUNICIPALITY_FILL: Color32 = Color32::from_rgb(0xF8, 0xF6, 0xF0);
/// Municipality outline.
pub const MUNICIPALITY_STROKE: Stroke = Stroke {
    width: 1.2,
    color: Color32::from_rgb(0x6E, 0x6A, 0x60),
};
/// Outline of a schematic (not real) partition: dashed look via a lighter colour.
pub const SCHEMATIC_STROKE: Stroke = Stroke {
    width: 1.0,
    color: Color32::from_rgb(0x9A, 0x94, 0x86),
};
/// Municipality labels.
pub const LABEL_COLOR: Color32 = Color32::from_rgb(0x3A, 0x36, 0x30);
/// Halo behind labels.
pub const LABEL_HALO: Color32 = Color32::from_rgba_unmultiplied_const(0xF8, 0xF6, 0xF0, 0xC0);
/// Individual appeal points.
pub const POINT_FILL: Color32 = Color32::from_rgb(0x08, 0x45, 0x94);
/// Error banner.
pub const ERROR_FILL: Color32 = Color32::from_rgb(0xFD, 0xEC, 0xEA);
pub const ERROR_TEXT: Color32 = Color32::from_rgb(0x9B, 0x1C, 0x1C);
/// Warnings in the data-quality line.
pub const WARNING_TEXT: Color32 = Color32::from_rgb(0xA1, 0x5C, 0x00);
/// Bars in the side panel lists.
pub const BAR_FILL: Color32 = Color32::from_rgb(0xE3, 0x8B, 0x4F);
/// Legend and overlay background.
pub const OVERLAY_FILL: Color32 = Color32::from_rgba_unmultiplied_const(0xFA, 0xFA, 0xF7, 0xE6);
pub const OVERLAY_TEXT: Color32 = Color32::from_rgb(0x2B, 0x2B, 0x2B);

/// Font size of municipality labels on the map.
pub const MAP_LABEL_SIZE: f32 = 12.0;
/// Font size of the total in the side panel.
pub const TOTAL_SIZE: f32 = 28.0;

/// YlOrRd (ColorBrewer, sequential, colour-blind safe), 7 classes, light to dark.
pub const YL_OR_RD: [Color32; 7] = [
    Color32::from_rgb(0xFF, 0xFF, 0xB2),
    Color32::from_rgb(0xFE, 0xD9, 0x76),
    Color32::from_rgb(0xFE, 0xB2, 0x4C),
    Color32::from_rgb(0xFD, 0x8D, 0x3C),
    Color32::from_rgb(0xFC, 0x4E, 0x2A),
    Color32::from_rgb(0xE3, 0x1A, 0x1C),
    Color32::from_rgb(0xB1, 0x00, 0x26),
];

/// Viridis (perceptually uniform, colour-blind safe), 7 stops, dark to light.
pub const VIRIDIS: [Color32; 7] = [
    Color32::from_rgb(0x44, 0x01, 0x54),
    Color32::from_rgb(0x44, 0x3A, 0x83),
    Color32::from_rgb(0x31, 0x68, 0x8E),
    Color32::from_rgb(0x21, 0x90, 0x8C),
    Color32::from_rgb(0x35, 0xB7, 0x79),
    Color32::from_rgb(0x90, 0xD7, 0x43),
    Color32::from_rgb(0xFD, 0xE7, 0x25),
];

/// Colour ramps of the density layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DensityRamp {
    /// YlOrRd: the heat ramp.
    #[default]
    Heat,
    Viridis,
}

impl DensityRamp {
    /// Every ramp, in menu order.
    pub const ALL: [DensityRamp; 2] = [DensityRamp::Heat, DensityRamp::Viridis];

    /// The stops of the ramp, low to high.
    pub fn stops(self) -> &'static [Color32] {
        match self {
            DensityRamp::Heat => &YL_OR_RD,
            DensityRamp::Viridis => &VIRIDIS,
        }
    }
}

/// Pixels of a density surface: transparent at or below `threshold × max`, otherwise the ramp
/// from 0 to `max` with `opacity`.
pub fn density_image(
    values: &[f32],
    width: usize,
    height: usize,
    max: f32,
    threshold: f32,
    opacity: f32,
    ramp: DensityRamp,
) -> egui::ColorImage {
    let max = max.max(f32::MIN_POSITIVE);
    let alpha = (opacity.clamp(0.0, 1.0) * 255.0) as u8;
    let pixels = values
        .iter()
        .map(|&v| {
            if v <= 0.0 || v <= threshold * max {
                Color32::TRANSPARENT
            } else {
                let c = ramp_lerp(ramp.stops(), v / max);
                Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), alpha)
            }
        })
        .collect();
    egui::ColorImage::new([width.max(1), height.max(1)], pixels)
}

/// Pixels of a density difference (B − A, appeals/km²) on RdBu: red where B has more, blue
/// where A had more, transparent where |difference| is at or below `threshold × max_abs` (so
/// "no change" shows the map underneath).
pub fn density_difference_image(
    values: &[f32],
    width: usize,
    height: usize,
    max_abs: f32,
    threshold: f32,
    opacity: f32,
) -> egui::ColorImage {
    let max_abs = max_abs.max(f32::MIN_POSITIVE);
    let alpha = (opacity.clamp(0.0, 1.0) * 255.0) as u8;
    let pixels = values
        .iter()
        .map(|&v| {
            if !v.is_finite() || v.abs() <= threshold * max_abs || v == 0.0 {
                Color32::TRANSPARENT
            } else {
                let c = ramp_lerp(&RD_BU_REVERSED, 0.5 + 0.5 * v / max_abs);
                Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), alpha)
            }
        })
        .collect();
    egui::ColorImage::new([width.max(1), height.max(1)], pixels)
}

/// Weekly bars of period A in a comparison's briefing (period B's are [`BAR_FILL`]).
pub const COMPARE_A_BAR: Color32 = Color32::from_rgb(0x67, 0xA9, 0xCF);
/// Gap between the two maps of the split view, points.
pub const SPLIT_GAP_PX: f32 = 4.0;
/// Background of the gap between the two maps of the split view.
pub const SPLIT_GAP_FILL: Color32 = Color32::from_rgb(0x6E, 0x6A, 0x62);

/// The appeals' cells over the choropleth: ColorBrewer Blues (light to dark), which stays
/// distinct from the YlOrRd fills underneath.
pub const POINTS_RAMP: [Color32; 5] = [
    Color32::from_rgb(0x9E, 0xCA, 0xE1),
    Color32::from_rgb(0x6B, 0xAE, 0xD6),
    Color32::from_rgb(0x42, 0x92, 0xC6),
    Color32::from_rgb(0x21, 0x71, 0xB5),
    Color32::from_rgb(0x08, 0x45, 0x94),
];

/// RdBu (ColorBrewer, diverging, colour-blind safe), 7 classes, decrease (blue) to increase
/// (red), neutral in the middle.
pub const RD_BU_REVERSED: [Color32; 7] = [
    Color32::from_rgb(0x21, 0x66, 0xAC),
    Color32::from_rgb(0x67, 0xA9, 0xCF),
    Color32::from_rgb(0xD1, 0xE5, 0xF0),
    Color32::from_rgb(0xF7, 0xF7, 0xF7),
    Color32::from_rgb(0xFD, 0xDB, 0xC7),
    Color32::from_rgb(0xEF, 0x8A, 0x62),
    Color32::from_rgb(0xB2, 0x18, 0x2B),
];

/// Line of the weekly chart.
pub const LINE_COLOR: Color32 = Color32::from_rgb(0xC0, 0x36, 0x2C);
/// Stripes of "no data" municipalities.
pub const HATCH_STRIPE: Color32 = Color32::from_rgb(0xA8, 0xA3, 0x98);
/// Background of "no data" municipalities.
pub const HATCH_BACKGROUND: Color32 = Color32::from_rgb(0xE9, 0xE6, 0xDE);
/// Tint of a textured fill (white keeps the texture's own colours).
pub const TEXTURE_TINT: Color32 = Color32::WHITE;
/// No fill (outlines only).
pub const NO_FILL: Color32 = Color32::TRANSPARENT;
/// Opacity of the choropleth under the density layer, so the two ramps do not mix.
pub const FILL_UNDER_DENSITY: f32 = 0.3;
/// How much darker the municipality under the pointer is drawn.
pub const HOVER_DARKEN: f32 = 0.85;
/// Municipalities a municipality filter leaves out.
pub const OUTSIDE_FILTER_FILL: Color32 = Color32::from_rgb(0xE4, 0xE2, 0xDD);
/// Outline of the selected municipality.
pub const SELECTED_STROKE: Stroke = Stroke {
    width: 3.0,
    color: Color32::from_rgb(0x1F, 0x3A, 0x93),
};
/// Side of the hatch pattern tile, in screen points.
pub const HATCH_TILE_PX: f32 = 10.0;

/// A 16×16 diagonal-stripe tile for "no data" fills (repeated by texture wrapping).
pub fn hatch_image() -> egui::ColorImage {
    let size = 16;
    let pixels = (0..size * size)
        .map(|i| {
            let (x, y) = (i % size, i / size);
            if (x + y) % 8 < 2 {
                HATCH_STRIPE
            } else {
                HATCH_BACKGROUND
            }
        })
        .collect();
    egui::ColorImage::new([size, size], pixels)
}

/// Colour at `t` in 0..=1 along a ramp, interpolated linearly between its stops.
pub fn ramp_lerp(ramp: &[Color32], t: f32) -> Color32 {
    let n = ramp.len();
    if n == 0 {
        return POINT_FILL;
    }
    let x = t.clamp(0.0, 1.0) * (n - 1) as f32;
    let i = (x.floor() as usize).min(n - 1);
    let j = (i + 1).min(n - 1);
    let f = x - i as f32;
    let (Some(a), Some(b)) = (ramp.get(i), ramp.get(j)) else {
        return POINT_FILL;
    };
    let mix = |p: u8, q: u8| (f32::from(p) + (f32::from(q) - f32::from(p)) * f).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

/// Fill of each choropleth class. Sequential metrics go light to dark along YlOrRd; a
/// diverging metric (change) puts each class on RdBu by its midpoint, so zero stays neutral
/// and the same change has the same colour whatever the other classes are.
pub fn class_colors(breaks: &[f64], diverging: bool) -> Vec<Color32> {
    let classes = breaks.len().saturating_sub(1);
    if !diverging {
        return (0..classes)
            .map(|i| {
                ramp_lerp(
                    &YL_OR_RD,
                    if classes <= 1 {
                        0.5
                    } else {
                        i as f32 / (classes - 1) as f32
                    },
                )
            })
            .collect();
    }
    let max_abs = breaks.iter().fold(0.0_f64, |m, b| m.max(b.abs())).max(1e-9);
    breaks
        .windows(2)
        .map(|w| {
            let mid = (w[0] + w[1]) / 2.0;
            ramp_lerp(&RD_BU_REVERSED, (0.5 + 0.5 * mid / max_abs) as f32)
        })
        .collect()
}

/// Fill of each class of a difference (classes symmetric about zero): RdBu by the class's
/// rank, so the classes on either side of zero are as distinct as the outer ones whatever
/// their widths, and an odd middle class is neutral.
pub fn difference_class_colors(classes: usize) -> Vec<Color32> {
    (0..classes)
        .map(|i| {
            let t = if classes <= 1 {
                0.5
            } else {
                i as f32 / (classes - 1) as f32
            };
            ramp_lerp(&RD_BU_REVERSED, t)
        })
        .collect()
}

/// Colour of `t` in 0..=1 on a ramp (nearest class), with alpha.
pub fn ramp(ramp: &[Color32], t: f32, alpha: u8) -> Color32 {
    let n = ramp.len().max(1);
    let i = ((t.clamp(0.0, 1.0) * n as f32) as usize).min(n - 1);
    let c = ramp.get(i).copied().unwrap_or(POINT_FILL);
    Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), alpha)
}

/// Light visuals with the app's panel colours.
pub fn visuals() -> egui::Visuals {
    egui::Visuals::light()
}

/// Gi* confidence classes as ArcGIS draws them (hot red, cold blue; RdBu of ColorBrewer,
/// diverging, colour-blind safe), indexed by `gi_bin + 3`: cold 99 %, 95 %, 90 %, not
/// significant, hot 90 %, 95 %, 99 %.
pub const HOT_SPOT_CLASSES: [Color32; 7] = [
    Color32::from_rgb(0x21, 0x66, 0xAC),
    Color32::from_rgb(0x67, 0xA9, 0xCF),
    Color32::from_rgb(0xD1, 0xE5, 0xF0),
    Color32::from_rgb(0xF2, 0xF0, 0xEA),
    Color32::from_rgb(0xFD, 0xDB, 0xC7),
    Color32::from_rgb(0xEF, 0x8A, 0x62),
    Color32::from_rgb(0xB2, 0x18, 0x2B),
];
/// Outline of problem zones and of their markers.
pub const ZONE_STROKE: Stroke = Stroke {
    width: 0.8,
    color: Color32::from_rgb(0x5A, 0x56, 0x4E),
};
/// Outline of the selected problem zone.
pub const ZONE_SELECTED_STROKE: Stroke = Stroke {
    width: 3.0,
    color: Color32::from_rgb(0x11, 0x11, 0x11),
};
/// Opacity of hexagon and municipality zone fills over the map.
pub const ZONE_FILL_ALPHA: u8 = 0xC8;
/// Radius of a settlement zone's marker: this many points for one appeal, growing with the
/// square root of the appeals (area ∝ appeals), capped.
pub const ZONE_MARKER_MIN_PX: f32 = 3.0;
pub const ZONE_MARKER_MAX_PX: f32 = 22.0;
/// Sparkline in the problem list.
pub const SPARKLINE: Color32 = Color32::from_rgb(0x44, 0x44, 0x44);
/// Slices in which the zone was a hot spot, on the sparkline.
pub const SPARKLINE_HOT: Color32 = Color32::from_rgb(0xB2, 0x18, 0x2B);
/// Size of a sparkline, points.
pub const SPARKLINE_SIZE: egui::Vec2 = egui::vec2(90.0, 18.0);

/// Fill of a Gi* class with the given alpha.
pub fn hot_spot_color(gi_bin: i8, alpha: u8) -> Color32 {
    let c = HOT_SPOT_CLASSES
        .get((i32::from(gi_bin) + 3).clamp(0, 6) as usize)
        .copied()
        .unwrap_or(Color32::GRAY);
    Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), alpha)
}

/// Text colour of an emerging-hot-spot category in the problem list: red for the worsening
/// ones (new, intensifying), dark for persistent, green for the improving ones, grey for no
/// pattern.
pub fn trend_color(worse: bool, better: bool) -> Color32 {
    if worse {
        Color32::from_rgb(0xB2, 0x18, 0x2B)
    } else if better {
        Color32::from_rgb(0x1B, 0x78, 0x37)
    } else {
        Color32::from_rgb(0x44, 0x44, 0x44)
    }
}

// Basemap (built-in reference layer, tiles)
/// Settlement dots on the built-in map.
pub const SETTLEMENT_DOT: Color32 = Color32::from_rgb(0x3A, 0x36, 0x30);
/// Outline of a settlement dot, so it stays visible on any fill.
pub const SETTLEMENT_DOT_STROKE: Stroke = Stroke {
    width: 1.0,
    color: Color32::from_rgb(0xF8, 0xF6, 0xF0),
};
/// Settlement names.
pub const SETTLEMENT_LABEL: Color32 = Color32::from_rgb(0x2B, 0x28, 0x24);
/// Font size of the smallest and of the largest settlement's name.
pub const SETTLEMENT_LABEL_MIN_SIZE: f32 = 10.0;
pub const SETTLEMENT_LABEL_MAX_SIZE: f32 = 16.0;
/// Dot radius of the smallest and of the largest settlement, points.
pub const SETTLEMENT_DOT_MIN_PX: f32 = 2.0;
pub const SETTLEMENT_DOT_MAX_PX: f32 = 4.5;
/// Populations drawn at the smallest and at the largest size (log scale in between).
pub const SETTLEMENT_SMALL_POPULATION: f64 = 1_000.0;
pub const SETTLEMENT_LARGE_POPULATION: f64 = 500_000.0;
/// Gap between a dot and its name, and padding around the name's halo, points.
pub const SETTLEMENT_LABEL_GAP_PX: f32 = 3.0;
pub const SETTLEMENT_LABEL_PAD_PX: f32 = 2.0;
/// Length the scale bar aims at (it is at most 1.5× this), points.
pub const SCALE_BAR_TARGET_PX: f32 = 100.0;
/// Scale bar: distance from the map's corner, inner padding, end-tick height, line width and
/// font size.
pub const SCALE_BAR_MARGIN_PX: f32 = 8.0;
pub const SCALE_BAR_PAD_PX: f32 = 4.0;
pub const SCALE_BAR_TICK_PX: f32 = 5.0;
pub const SCALE_BAR_STROKE_PX: f32 = 2.0;
pub const SCALE_BAR_FONT_SIZE: f32 = 11.0;
/// Opacity of the choropleth fills over a tile basemap (the basemap shows through).
pub const FILL_OVER_TILES: f32 = 0.6;
/// The "offline" badge on the map.
pub const OFFLINE_BADGE_FILL: Color32 = Color32::from_rgb(0xB3, 0x26, 0x1E);
pub const OFFLINE_BADGE_TEXT: Color32 = Color32::WHITE;

// Presentation mode (meetings)
/// Text sizes offered for presentation mode (the whole window is scaled by the chosen factor).
pub const PRESENTATION_SCALES: [f32; 4] = [1.0, 1.25, 1.5, 2.0];
/// The default presentation scale: readable from the back of a meeting room.
pub const PRESENTATION_DEFAULT_SCALE: f32 = 1.5;
/// The title bar over the map.
pub const PRESENTATION_BAR_FILL: Color32 =
    Color32::from_rgba_unmultiplied_const(0xFA, 0xFA, 0xF7, 0xF0);
pub const PRESENTATION_TITLE_TEXT: Color32 = Color32::from_rgb(0x1E, 0x1E, 0x1E);
pub const PRESENTATION_SUBTITLE_TEXT: Color32 = Color32::from_rgb(0x3A, 0x3A, 0x3A);
pub const PRESENTATION_NOTE_TEXT: Color32 = Color32::from_rgb(0x5A, 0x5A, 0x5A);
/// Font sizes (before the presentation scale) of the view's name, of the filter in words and of
/// the notes (data timestamp, keys).
pub const PRESENTATION_TITLE_SIZE: f32 = 22.0;
pub const PRESENTATION_SUBTITLE_SIZE: f32 = 16.0;
pub const PRESENTATION_NOTE_SIZE: f32 = 11.0;
