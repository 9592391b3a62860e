//! The municipality layer: land background, filled polygons, outlines and labels.

use egui::epaint::{Mesh, PathShape, PathStroke, Vertex, WHITE_UV};
use egui::{Align2, Color32, FontId, Pos2, Rect, Response, Shape, TextureId, Ui};
use geo::TriangulateEarcut as _;
use walkers::{MapMemory, Plugin, Projector};

use super::ScreenTransform;
use crate::spatial::Boundaries;
use crate::spatial::projection::mercator_unit_from_lon_lat;
use crate::ui::theme;

/// One municipality, ready to draw.
#[derive(Clone, Debug)]
pub struct UnitGeometry {
    pub name: String,
    pub municipality: Option<usize>,
    /// Rings (exterior and holes) in unit coordinates.
    pub rings: Vec<Vec<[f64; 2]>>,
    /// Triangulated fill: vertices and indices.
    pub vertices: Vec<[f64; 2]>,
    pub indices: Vec<u32>,
    pub label_unit: [f64; 2],
    /// Bounds in unit coordinates: min, max.
    pub bounds_unit: ([f64; 2], [f64; 2]),
}

/// All municipalities, ready to draw.
#[derive(Clone, Debug, Default)]
pub struct BoundaryGeometry {
    pub units: Vec<UnitGeometry>,
    pub schematic: bool,
}

fn unit(lon: f64, lat: f64) -> [f64; 2] {
    let (x, y) = mercator_unit_from_lon_lat(lon, lat);
    [x, y]
}

impl BoundaryGeometry {
    /// Triangulates and projects `boundaries` (once per boundary set).
    pub fn new(boundaries: &Boundaries) -> Self {
        let units = boundaries
            .units
            .iter()
            .map(|u| {
                let mut rings: Vec<Vec<[f64; 2]>> = Vec::new();
                let mut vertices = Vec::new();
                let mut indices = Vec::new();
                for polygon in &u.polygon_lon_lat {
                    for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                        rings.push(ring.coords().map(|c| unit(c.x, c.y)).collect());
                    }
                    let raw = polygon.earcut_triangles_raw();
                    let base = vertices.len() as u32;
                    vertices.extend(raw.vertices.iter().map(|c| unit(c[0], c[1])));
                    indices.extend(raw.triangle_indices.iter().map(|&i| base + i as u32));
                }
                let mut min = [f64::INFINITY; 2];
                let mut max = [f64::NEG_INFINITY; 2];
                for p in rings.iter().flatten() {
                    min = [min[0].min(p[0]), min[1].min(p[1])];
                    max = [max[0].max(p[0]), max[1].max(p[1])];
                }
                UnitGeometry {
                    name: u.name.clone(),
                    municipality: u.municipality,
                    rings,
                    vertices,
                    indices,
                    label_unit: unit(u.label_lon_lat.0, u.label_lon_lat.1),
                    bounds_unit: (min, max),
                }
            })
            .collect();
        Self {
            units,
            schematic: boundaries.is_schematic(),
        }
    }

    /// Index of the unit containing a unit-square point (even–odd rule over all its rings).
    pub fn unit_at(&self, p: [f64; 2]) -> Option<usize> {
        self.units.iter().position(|u| {
            let (min, max) = u.bounds_unit;
            if p[0] < min[0] || p[0] > max[0] || p[1] < min[1] || p[1] > max[1] {
                return false;
            }
            let mut inside = false;
            for ring in &u.rings {
                let n = ring.len();
                for i in 0..n {
                    let (Some(a), Some(b)) = (ring.get(i), ring.get((i + 1) % n)) else {
                        continue;
                    };
                    if (a[1] > p[1]) != (b[1] > p[1])
                        && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
                    {
                        inside = !inside;
                    }
                }
            }
            inside
        })
    }
}

/// Draws the background, the municipality fills (the choropleth) and outlines.
pub struct BoundaryLayer<'a> {
    pub geometry: &'a BoundaryGeometry,
    /// Fill of each unit: `Some(colour)`, or `None` for "no data" (hatched). An empty slice
    /// draws every unit in the plain municipality colour.
    pub fills: &'a [Option<Color32>],
    /// Texture of the "no data" hatch pattern (repeating).
    pub hatch: Option<TextureId>,
    /// Unit under the pointer (highlighted).
    pub hovered: Option<usize>,
    /// Units outlined as selected.
    pub selected: &'a [usize],
    /// Strength of the fills, 0..=1 (lower when the density layer is drawn on top).
    pub fill_opacity: f32,
    /// A tile basemap lies underneath: no background, no plain land fill, and the choropleth
    /// fills translucent so the basemap shows through.
    pub over_tiles: bool,
}

/// The built-in map's land: the background around the region and every municipality in the
/// plain land colour. Drawn under a tile basemap, where a tile is missing (offline, not
/// cached, outside the file's coverage) it shows instead.
pub fn land_shapes(geometry: &BoundaryGeometry, projector: &Projector) -> Vec<Shape> {
    let rect = projector.clip_rect();
    let t = ScreenTransform::new(projector);
    let mut mesh = Mesh::default();
    for u in &geometry.units {
        let base = mesh.vertices.len() as u32;
        mesh.vertices.extend(u.vertices.iter().map(|&v| Vertex {
            pos: t.to_screen(v),
            uv: WHITE_UV,
            color: theme::MUNICIPALITY_FILL,
        }));
        mesh.indices.extend(u.indices.iter().map(|&k| base + k));
    }
    vec![
        Shape::rect_filled(rect, 0.0, theme::MAP_OUTSIDE),
        Shape::mesh(mesh),
    ]
}

impl Plugin for BoundaryLayer<'_> {
    fn run(
        self: Box<Self>,
        ui: &mut Ui,
        _response: &Response,
        projector: &Projector,
        _memory: &MapMemory,
    ) {
        let rect = projector.clip_rect();
        let painter = ui.painter().with_clip_rect(rect);
        if !self.over_tiles {
            painter.rect_filled(rect, 0.0, theme::MAP_OUTSIDE);
        }
        let t = ScreenTransform::new(projector);

        let mut mesh = Mesh::default();
        let mut hatched = self.hatch.map(Mesh::with_texture);
        for (i, u) in self.geometry.units.iter().enumerate() {
            let fill = if self.fills.is_empty() {
                if self.over_tiles {
                    continue;
                }
                Some(theme::MUNICIPALITY_FILL)
            } else {
                self.fills.get(i).copied().flatten()
            };
            let target = match (fill, hatched.as_mut()) {
                (Some(_), _) | (None, None) => &mut mesh,
                (None, Some(h)) => h,
            };
            let mut color = fill.unwrap_or(theme::HATCH_BACKGROUND);
            if self.hovered == Some(i) {
                color = color.gamma_multiply(theme::HOVER_DARKEN);
            }
            // Faded towards the plain land colour (not made transparent: the background around
            // the region is darker).
            let color = if self.over_tiles {
                color.gamma_multiply(theme::FILL_OVER_TILES * self.fill_opacity)
            } else {
                theme::MUNICIPALITY_FILL.lerp_to_gamma(color, self.fill_opacity)
            };
            let textured = fill.is_none() && self.hatch.is_some();
            let base = target.vertices.len() as u32;
            target.vertices.extend(u.vertices.iter().map(|&v| {
                let pos = t.to_screen(v);
                Vertex {
                    pos,
                    uv: if textured {
                        Pos2::new(pos.x / theme::HATCH_TILE_PX, pos.y / theme::HATCH_TILE_PX)
                    } else {
                        WHITE_UV
                    },
                    color: match (textured, self.over_tiles) {
                        (true, false) => theme::TEXTURE_TINT,
                        (true, true) => theme::TEXTURE_TINT.gamma_multiply(theme::FILL_OVER_TILES),
                        (false, _) => color,
                    },
                }
            }));
            target.indices.extend(u.indices.iter().map(|&k| base + k));
        }
        painter.add(Shape::mesh(mesh));
        if let Some(h) = hatched {
            painter.add(Shape::mesh(h));
        }

        let stroke = if self.geometry.schematic {
            theme::SCHEMATIC_STROKE
        } else {
            theme::MUNICIPALITY_STROKE
        };
        let outline = |ring: &Vec<[f64; 2]>, stroke: egui::Stroke| {
            let points: Vec<Pos2> = ring.iter().map(|&p| t.to_screen(p)).collect();
            painter.add(Shape::Path(PathShape {
                points,
                closed: true,
                fill: theme::NO_FILL,
                stroke: PathStroke::new(stroke.width, stroke.color),
            }));
        };
        for u in &self.geometry.units {
            for ring in &u.rings {
                outline(ring, stroke);
            }
        }
        for &i in self.selected {
            if let Some(u) = self.geometry.units.get(i) {
                for ring in &u.rings {
                    outline(ring, theme::SELECTED_STROKE);
                }
            }
        }
    }
}

/// Draws the municipality names on top of everything else, greedily skipping labels that
/// would overlap one already placed (most populous first).
pub struct LabelLayer<'a> {
    pub geometry: &'a BoundaryGeometry,
    /// Label priority: units earlier in this list get their label first when labels collide.
    pub label_order: &'a [usize],
}

impl Plugin for LabelLayer<'_> {
    fn run(
        self: Box<Self>,
        ui: &mut Ui,
        _response: &Response,
        projector: &Projector,
        _memory: &MapMemory,
    ) {
        let rect = projector.clip_rect();
        let painter = ui.painter().with_clip_rect(rect);
        let t = ScreenTransform::new(projector);
        let font = FontId::proportional(theme::MAP_LABEL_SIZE);
        let mut placed: Vec<Rect> = Vec::new();
        let order = self
            .label_order
            .iter()
            .copied()
            .chain(0..self.geometry.units.len())
            .collect::<Vec<_>>();
        let mut seen = vec![false; self.geometry.units.len()];
        for i in order {
            let (Some(u), Some(s)) = (self.geometry.units.get(i), seen.get_mut(i)) else {
                continue;
            };
            if std::mem::replace(s, true) {
                continue;
            }
            let pos = t.to_screen(u.label_unit);
            if !rect.contains(pos) {
                continue;
            }
            let galley = painter.layout_no_wrap(u.name.clone(), font.clone(), theme::LABEL_COLOR);
            let label_rect = Align2::CENTER_CENTER
                .anchor_size(pos, galley.size())
                .expand(2.0);
            if placed.iter().any(|r| r.intersects(label_rect)) {
                continue;
            }
            placed.push(label_rect);
            painter.rect_filled(label_rect, 3.0, theme::LABEL_HALO);
            painter.galley(
                label_rect.min + egui::vec2(2.0, 2.0),
                galley,
                theme::LABEL_COLOR,
            );
        }
    }
}
