//! Georeferenced rasters for GIS users: a density [`Surface`] as a single-band Float32 GeoTIFF
//! in EPSG:3857, or as a coloured PNG with a world file (`.pgw`) and a `.prj`, so QGIS opens
//! either in the right place.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use tiff::encoder::{TiffEncoder, colortype::Gray32Float};
use tiff::tags::Tag;

use crate::analysis::Surface;

/// GeoTIFF tag numbers (OGC GeoTIFF 1.1).
const MODEL_PIXEL_SCALE: u16 = 33550;
const MODEL_TIEPOINT: u16 = 33922;
const GEO_KEY_DIRECTORY: u16 = 34735;
const GDAL_NODATA: u16 = 42113;

/// ESRI WKT of EPSG:3857, as QGIS reads it from a `.prj`.
pub const EPSG_3857_WKT: &str = r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]"#;

/// A raster that cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum RasterError {
    #[error("cannot write ({source}): {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode the GeoTIFF ({detail}): {path}")]
    Tiff { path: PathBuf, detail: String },
    #[error("cannot encode the PNG ({detail}): {path}")]
    Png { path: PathBuf, detail: String },
}

/// Writes `surface` as a Float32 GeoTIFF (appeals per km², EPSG:3857, pixel is area).
///
/// # Errors
/// The file cannot be written.
pub fn write_geotiff(surface: &Surface, path: &Path) -> Result<(), RasterError> {
    let io = |source| RasterError::Io {
        path: path.to_owned(),
        source,
    };
    let tiff_err = |e: tiff::TiffError| RasterError::Tiff {
        path: path.to_owned(),
        detail: e.to_string(),
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut encoder = TiffEncoder::new(BufWriter::new(file)).map_err(tiff_err)?;
    let g = &surface.grid;
    let mut image = encoder
        .new_image::<Gray32Float>(g.width as u32, g.height as u32)
        .map_err(tiff_err)?;
    let directory = image.encoder();
    directory
        .write_tag(
            Tag::Unknown(MODEL_PIXEL_SCALE),
            &[g.cell_m, g.cell_m, 0.0][..],
        )
        .map_err(tiff_err)?;
    directory
        .write_tag(
            Tag::Unknown(MODEL_TIEPOINT),
            &[0.0, 0.0, 0.0, g.x_min_m, g.y_max_m, 0.0][..],
        )
        .map_err(tiff_err)?;
    // GeoKeyDirectory: version 1.1.0, 3 keys: model type projected, raster type pixel-is-area,
    // projected CRS 3857.
    let keys: [u16; 16] = [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 3857];
    directory
        .write_tag(Tag::Unknown(GEO_KEY_DIRECTORY), &keys[..])
        .map_err(tiff_err)?;
    directory
        .write_tag(Tag::Unknown(GDAL_NODATA), "-1")
        .map_err(tiff_err)?;
    image.write_data(&surface.values).map_err(tiff_err)?;
    Ok(())
}

/// The world-file lines of a surface (pixel size, rotations, centre of the upper-left pixel).
pub fn world_file(surface: &Surface) -> String {
    let g = &surface.grid;
    format!(
        "{:.6}\n0.0\n0.0\n{:.6}\n{:.6}\n{:.6}\n",
        g.cell_m,
        -g.cell_m,
        g.x_min_m + g.cell_m / 2.0,
        g.y_max_m - g.cell_m / 2.0
    )
}

/// Writes `rgba` (row-major, `width × height` of the surface) as a PNG with its `.pgw` and
/// `.prj` beside it.
///
/// # Errors
/// A file cannot be written.
pub fn write_png(surface: &Surface, rgba: &[u8], path: &Path) -> Result<(), RasterError> {
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| RasterError::Io { path: p, source }
    };
    let png_err = |e: png::EncodingError| RasterError::Png {
        path: path.to_owned(),
        detail: e.to_string(),
    };
    let file = std::fs::File::create(path).map_err(io(path))?;
    let mut encoder = png::Encoder::new(
        BufWriter::new(file),
        surface.grid.width as u32,
        surface.grid.height as u32,
    );
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(rgba).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    let pgw = path.with_extension("pgw");
    std::fs::write(&pgw, world_file(surface)).map_err(io(&pgw))?;
    let prj = path.with_extension("prj");
    std::fs::write(&prj, EPSG_3857_WKT).map_err(io(&prj))?;
    Ok(())
}
