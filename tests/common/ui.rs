//! The window under egui_kittest: the app created on the harness's first frame, stepping until
//! the background jobs are done, and files dropped onto the window.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui_kittest::Harness;
use teplokarta::app::{App, Startup};
use teplokarta::ui::Lang;

/// The app, created on the first frame with the harness's context.
pub type State = Option<App>;

/// The app on `database` in `lang`, ignoring remembered state.
pub fn harness(database: &Path, lang: Lang) -> Harness<'static, State> {
    harness_with(Startup {
        database: Some(database.to_owned().into()),
        lang: Some(lang),
        fresh: true,
        ..Startup::default()
    })
}

/// The app started with `startup`.
pub fn harness_with(startup: Startup) -> Harness<'static, State> {
    Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(
            move |ui, state: &mut State| {
                let app = state.get_or_insert_with(|| App::new(ui.ctx(), None, startup.clone()));
                app.logic_step(&ui.ctx().clone());
                app.ui_root(ui);
            },
            None,
        )
}

/// Steps the harness until the background jobs are done (they run on their own threads).
pub fn wait_idle(harness: &mut Harness<'static, State>) {
    for _ in 0..500 {
        harness.step();
        if harness.state().as_ref().is_some_and(App::is_idle) {
            harness.run_steps(3);
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("background jobs did not finish");
}

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Drops `path` onto the window and waits for what it starts.
pub fn drop_file(harness: &mut Harness<'static, State>, path: &Path) {
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(path.to_owned())));
    harness.step();
    wait_idle(harness);
}
