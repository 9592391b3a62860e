//! The problem-map layer: every zone with appeals (or a significant Gi* class) drawn in its
//! hot-spot class colour — settlements as circles whose area follows the appeals, grid cells as
//! hexagons (municipality zones are filled by the boundary layer). It also finds the zone under
//! the pointer, for the tooltip and clicks.

use egui::{Pos2, Response, Shape, Ui};
use walkers::{MapMemory, Plugin, Projector};

use super::ScreenTransform;
use crate::ui::theme;

/// One zone as the layer draws it, prepared once per problem map (Web-Mercator unit space).
#[derive(Clone, Debug, PartialEq)]
pub enum ZoneDraw {
    /// A circle at `centre_unit`, `radius_px` screen points whatever the zoom.
    Marker {
        zone: u32,
        centre_unit: [f64; 2],
        radius_px: f32,
        gi_bin: i8,
    },
    /// A filled polygon (a hexagon), corners in unit space.
    Polygon {
        zone: u32,
        corners_unit: Vec<[f64; 2]>,
        gi_bin: i8,
    },
}

impl ZoneDraw {
    /// The zone drawn.
    pub fn zone(&self) -> u32 {
        match self {
            ZoneDraw::Marker { zone, .. } | ZoneDraw::Polygon { zone, .. } => *zone,
        }
    }
}

/// Draws the zones; after [`Plugin::run`], `hovered` holds the zone under the pointer.
pub struct ProblemLayer<'a> {
    pub zones: &'a [ZoneDraw],
    pub selected: Option<u32>,
    /// Filled in by the plugin.
    pub hovered: Option<u32>,
}

fn inside_convex(p: Pos2, corners: &[Pos2]) -> bool {
    let mut sign = 0.0f32;
    for (a, b) in corners.iter().zip(corners.iter().cycle().skip(1)) {
        let cross = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
        if cross != 0.0 {
            if sign != 0.0 && cross.signum() != sign {
                return false;
            }
            sign = cross.signum();
        }
    }
    !corners.is_empty()
}

impl Plugin for &mut ProblemLayer<'_> {
    fn run(
        self: Box<Self>,
        ui: &mut Ui,
        response: &Response,
        projector: &Projector,
        _memory: &MapMemory,
    ) {
        let rect = projector.clip_rect();
        let painter = ui.painter().with_clip_rect(rect);
        let t = ScreenTransform::new(projector);
        let pointer = response.hover_pos();
        let mut hovered = None;
        let mut selected_shape = None;
        // Polygons first, markers on top; bigger markers under smaller ones (the caller sorts).
        for draw in self.zones {
            let is_selected = Some(draw.zone()) == self.selected;
            match draw {
                ZoneDraw::Polygon {
                    zone,
                    corners_unit,
                    gi_bin,
                } => {
                    let corners: Vec<Pos2> = corners_unit.iter().map(|c| t.to_screen(*c)).collect();
                    let bounds = egui::Rect::from_points(&corners);
                    if !bounds.intersects(rect) {
                        continue;
                    }
                    // Too small to see: a dot of the class colour instead.
                    if bounds.width() < theme::ZONE_MARKER_MIN_PX * 2.0 {
                        let centre = bounds.center();
                        if pointer.is_some_and(|p| p.distance(centre) <= 4.0) {
                            hovered = Some(*zone);
                        }
                        if is_selected {
                            selected_shape = Some(Shape::circle_stroke(
                                centre,
                                theme::ZONE_MARKER_MIN_PX + 2.0,
                                theme::ZONE_SELECTED_STROKE,
                            ));
                        }
                        painter.circle_filled(
                            centre,
                            theme::ZONE_MARKER_MIN_PX,
                            theme::hot_spot_color(*gi_bin, 0xFF),
                        );
                        continue;
                    }
                    if pointer.is_some_and(|p| inside_convex(p, &corners)) {
                        hovered = Some(*zone);
                    }
                    let stroke = if bounds.width() > 6.0 {
                        theme::ZONE_STROKE
                    } else {
                        egui::Stroke::NONE
                    };
                    if is_selected {
                        selected_shape = Some(Shape::closed_line(
                            corners.clone(),
                            theme::ZONE_SELECTED_STROKE,
                        ));
                    }
                    painter.add(Shape::convex_polygon(
                        corners,
                        theme::hot_spot_color(*gi_bin, theme::ZONE_FILL_ALPHA),
                        stroke,
                    ));
                }
                ZoneDraw::Marker {
                    zone,
                    centre_unit,
                    radius_px,
                    gi_bin,
                } => {
                    let centre = t.to_screen(*centre_unit);
                    if !rect.expand(*radius_px).contains(centre) {
                        continue;
                    }
                    if pointer.is_some_and(|p| p.distance(centre) <= radius_px.max(4.0)) {
                        hovered = Some(*zone);
                    }
                    if is_selected {
                        selected_shape = Some(Shape::circle_stroke(
                            centre,
                            radius_px + 2.0,
                            theme::ZONE_SELECTED_STROKE,
                        ));
                    }
                    painter.circle(
                        centre,
                        *radius_px,
                        theme::hot_spot_color(*gi_bin, 0xFF),
                        theme::ZONE_STROKE,
                    );
                }
            }
        }
        if let Some(shape) = selected_shape {
            painter.add(shape);
        }
        self.hovered = hovered;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convex_hit_test() {
        let square = [
            Pos2::new(0.0, 0.0),
            Pos2::new(10.0, 0.0),
            Pos2::new(10.0, 10.0),
            Pos2::new(0.0, 10.0),
        ];
        assert!(inside_convex(Pos2::new(5.0, 5.0), &square));
        assert!(!inside_convex(Pos2::new(15.0, 5.0), &square));
        assert!(!inside_convex(Pos2::new(5.0, -1.0), &square));
    }
}
