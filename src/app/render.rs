//! Rendered exports of the map (PNG, the PDF briefing's map, GIF playback frames): the real
//! window drawn offscreen by egui_kittest's wgpu renderer, in presentation mode (panels hidden;
//! title, read-only legend, credits and scale bar drawn; no individual appeals), with the
//! export's title and provenance line. Owns waiting for the background jobs before a frame is
//! taken. Rendering needs a wgpu adapter (a GPU or a software Vulkan such as llvmpipe).

use std::time::{Duration, Instant};

use egui_kittest::Harness;

use super::{App, Startup};
use crate::analysis::Filter;
use crate::ui::Command;
use crate::ui::panels::MapSettings;
use crate::ui::problem_panel::ProblemPrefs;

/// How long a frame may wait for the data and the layers to be computed.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Size of a rendered image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RenderOptions {
    /// Width and height in points (the window's logical size).
    pub width_pt: u32,
    pub height_pt: u32,
    /// Pixels per point (1, 2 or 4 for print).
    pub scale: f32,
}

/// What the map shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Scene {
    /// A filter with layers and their settings; the map fitted to the data.
    Settings(Box<MapState>),
    /// The saved view with this index in the startup's views file (its extent, layers, filter).
    View(usize),
}

/// The filter and the layers with their settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MapState {
    pub filter: Filter,
    pub map: MapSettings,
    pub problems: ProblemPrefs,
}

/// A rendering that failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no wgpu adapter to render with (install a Vulkan driver, e.g. mesa-vulkan-drivers): {0}"
    )]
    NoAdapter(String),
    #[error("the data and layers were not ready after {0} s")]
    Timeout(u64),
    #[error("the app failed: {0}")]
    App(String),
    #[error("rendering failed: {0}")]
    Render(String),
}

type State = Option<App>;

/// The window offscreen.
pub struct Renderer {
    harness: Harness<'static, State>,
}

impl Renderer {
    /// The app started with `startup` in a window of `options`' size, in presentation mode at 1×
    /// type, once the data is loaded.
    pub fn new(startup: Startup, options: RenderOptions) -> Result<Self, RenderError> {
        let size = egui::vec2(options.width_pt as f32, options.height_pt as f32);
        let scale = options.scale;
        let built = std::panic::catch_unwind(move || {
            Harness::builder()
                .with_size(size)
                .with_pixels_per_point(scale)
                .wgpu()
                .build_ui_state(
                    move |ui, state: &mut State| {
                        let app =
                            state.get_or_insert_with(|| App::new(ui.ctx(), None, startup.clone()));
                        app.logic_step(&ui.ctx().clone());
                        app.ui_root(ui);
                    },
                    None,
                )
        });
        let harness = built.map_err(|panic| {
            RenderError::NoAdapter(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default(),
            )
        })?;
        let mut renderer = Self { harness };
        renderer.settle()?;
        let ctx = renderer.harness.ctx.clone();
        if let Some(app) = renderer.harness.state_mut().as_mut() {
            app.apply(&ctx, Command::SetPresentationScale(1.0));
            app.apply(&ctx, Command::SetPresentation(true));
        }
        renderer.settle()?;
        Ok(renderer)
    }

    /// The app.
    pub fn app(&self) -> Option<&App> {
        self.harness.state().as_ref()
    }

    /// Shows `scene` with the export's `title` (`None`: the saved view's name, if any) and no
    /// provenance line yet ([`Self::set_overlay`] adds it), and waits until it is drawn.
    pub fn show(&mut self, scene: &Scene, title: Option<String>) -> Result<(), RenderError> {
        let ctx = self.harness.ctx.clone();
        if let Some(app) = self.harness.state_mut().as_mut() {
            match scene {
                Scene::Settings(state) => app.set_map_state(
                    state.filter.clone(),
                    state.map.clone(),
                    state.problems.clone(),
                ),
                Scene::View(i) => app.apply(&ctx, Command::GoToView(*i)),
            }
            app.set_export_overlay(title, None);
        }
        self.settle()
    }

    /// Leaves problem zones with 1..k-1 appeals off the map and hatches such municipalities
    /// as without data (as the export's tables leave them out), saying so under the legend
    /// with `legend_note`.
    pub fn set_k(&mut self, k: u64, legend_note: Option<String>) {
        if let Some(app) = self.harness.state_mut().as_mut() {
            app.set_export_k(Some(k), legend_note);
        }
    }

    /// Changes only the title and provenance line.
    pub fn set_overlay(
        &mut self,
        title: Option<String>,
        provenance: Option<String>,
    ) -> Result<(), RenderError> {
        if let Some(app) = self.harness.state_mut().as_mut() {
            app.set_export_overlay(title, provenance);
        }
        self.settle()
    }

    /// The window as it is now.
    pub fn render(&mut self) -> Result<image::RgbaImage, RenderError> {
        self.harness.render().map_err(RenderError::Render)
    }

    /// Steps until the jobs are done and the map has stopped moving (then a few more frames,
    /// for what the last results start: textures, a density surface).
    fn settle(&mut self) -> Result<(), RenderError> {
        let started = Instant::now();
        let mut quiet = 0;
        while quiet < 4 {
            self.harness.step();
            let ready = self
                .harness
                .state()
                .as_ref()
                .is_some_and(|app| app.is_idle() && !app.in_transition());
            if ready {
                quiet += 1;
            } else {
                quiet = 0;
                std::thread::sleep(Duration::from_millis(10));
            }
            if started.elapsed() > SETTLE_TIMEOUT {
                return Err(RenderError::Timeout(SETTLE_TIMEOUT.as_secs()));
            }
        }
        if let Some(app) = self.app()
            && app.dataset().is_none()
            && let Some(error) = app.errors().first()
        {
            return Err(RenderError::App(error.clone()));
        }
        Ok(())
    }
}

/// The PNG file's bytes of `image`.
pub fn encode_png(image: &image::RgbaImage) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, image.width(), image.height());
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(image.as_raw())?;
    }
    Ok(bytes)
}
