//! `MunicipalityLocator`: which municipality polygon a point lies in, fast enough for a million
//! appeals — an R-tree of polygon bounding boxes picks the candidates, an interval tree per
//! polygon (`geo::IntervalTreeMultiPolygon`) answers containment in O(log n). A point on a
//! shared border belongs to exactly one unit: the first (in boundary order) whose closed polygon
//! contains it.

use geo::{Intersects as _, MultiPolygon, Point, indexed::IntervalTreeMultiPolygon};
use rstar::{RTree, primitives::GeomWithData, primitives::Rectangle};

use super::Boundaries;
use geo::BoundingRect as _;
use geo::Contains as _;

type Envelope = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Point-in-polygon lookup over a set of boundaries.
pub struct MunicipalityLocator {
    tree: RTree<Envelope>,
    indexed: Vec<IntervalTreeMultiPolygon<f64>>,
    polygons: Vec<MultiPolygon<f64>>,
}

impl std::fmt::Debug for MunicipalityLocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MunicipalityLocator")
            .field("units", &self.polygons.len())
            .finish()
    }
}

impl MunicipalityLocator {
    /// Indexes the polygons of `boundaries` (unit indices are `boundaries.units` indices).
    pub fn new(boundaries: &Boundaries) -> Self {
        let envelopes = boundaries
            .units
            .iter()
            .enumerate()
            .filter_map(|(i, u)| {
                let r = u.polygon_lon_lat.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect();
        Self {
            tree: RTree::bulk_load(envelopes),
            indexed: boundaries
                .units
                .iter()
                .map(|u| IntervalTreeMultiPolygon::new(&u.polygon_lon_lat))
                .collect(),
            polygons: boundaries
                .units
                .iter()
                .map(|u| u.polygon_lon_lat.clone())
                .collect(),
        }
    }

    /// Index of the unit containing (lon, lat), `None` outside every polygon.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<usize> {
        let point = Point::new(lon, lat);
        let mut candidates: Vec<usize> = self
            .tree
            .locate_all_at_point(&[lon, lat])
            .map(|e| e.data)
            .collect();
        candidates.sort_unstable();
        let inside = candidates
            .iter()
            .copied()
            .find(|&i| self.indexed.get(i).is_some_and(|t| t.contains(&point)));
        // Not strictly inside any: on a border (or a vertex) of one or more, or outside all.
        inside.or_else(|| {
            candidates
                .into_iter()
                .find(|&i| self.polygons.get(i).is_some_and(|p| p.intersects(&point)))
        })
    }

    /// Number of units indexed.
    pub fn len(&self) -> usize {
        self.polygons.len()
    }

    /// True when there are no units.
    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_schematic_boundaries_and_decides_borders() {
        let b = Boundaries::schematic();
        let locator = MunicipalityLocator::new(&b);
        assert_eq!(locator.len(), 26);
        for m in crate::spatial::municipalities() {
            let found = locator.locate(m.centroid_lon, m.centroid_lat);
            assert_eq!(
                found,
                b.locate(m.centroid_lon, m.centroid_lat),
                "{}",
                m.name
            );
        }
        assert_eq!(
            locator.locate(30.0, 60.0),
            None,
            "Saint Petersburg is outside"
        );
        // A vertex shared by several cells lands in exactly one of them.
        let vertex = b.units[0].polygon_lon_lat.0[0].exterior().0[1];
        assert!(locator.locate(vertex.x, vertex.y).is_some());
    }
}
