//! The theme: every colour, ramp and font size of the app lives here (rerun's design-token
//! habit), so the map, legend and panels stay consistent and colour-blind-safe.

use egui::{Color32, Stroke};

/// Map background where there are no tiles (land).
pub const MAP_BACKGROUND: Color32 = Color32::from_rgb(0xEE, 0xEB, 0xE3);
/// Outside the region.
pub const MAP_OUTSIDE: Color32 = Color32::from_rgb(0xDD, 0xDB, 0xD4);
/// Municipality fill (light, so points stay readable).
pub const MUNICIPALITY_FILL: Color32 = Color32::from_rgb(0xF8, 0xF6, 0xF0);
/// Municipality fill under the pointer.
pub const MUNICIPALITY_HOVER_FILL: Color32 = Color32::from_rgb(0xFF, 0xF4, 0xD6);
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
pub const LABEL_HALO: Color32 = Color32::from_rgba_premultiplied(0xF8, 0xF6, 0xF0, 0xC0);
/// Individual appeal points.
pub const POINT_FILL: Color32 = Color32::from_rgb(0xC0, 0x36, 0x2C);
pub const POINT_STROKE: Stroke = Stroke {
    width: 0.6,
    color: Color32::from_rgb(0xFF, 0xFF, 0xFF),
};
/// Error banner.
pub const ERROR_FILL: Color32 = Color32::from_rgb(0xFD, 0xEC, 0xEA);
pub const ERROR_TEXT: Color32 = Color32::from_rgb(0x9B, 0x1C, 0x1C);
/// Warnings in the data-quality line.
pub const WARNING_TEXT: Color32 = Color32::from_rgb(0xA1, 0x5C, 0x00);
/// Bars in the side panel lists.
pub const BAR_FILL: Color32 = Color32::from_rgb(0xE3, 0x8B, 0x4F);
/// Legend and overlay background.
pub const OVERLAY_FILL: Color32 = Color32::from_rgba_premultiplied(0xFA, 0xFA, 0xF7, 0xE6);
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
