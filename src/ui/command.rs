//! `Command`: what the user asked for during a frame. Widgets push commands; the app applies
//! them after drawing (egui_demo_app's habit), so drawing code only borrows state.

use std::path::PathBuf;

use super::i18n::Lang;

/// A user action.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Show the "open database" dialog.
    ShowOpenDatabase,
    /// Show the "open boundaries" dialog.
    ShowOpenBoundaries,
    /// Open the native file picker for the dialog that is showing.
    BrowseForFile,
    OpenDatabase(PathBuf),
    OpenBoundaries(PathBuf),
    UseSchematicBoundaries,
    OpenDemo,
    FitToData,
    SetLang(Lang),
    ShowAbout(bool),
    DismissError(usize),
    CloseDialog,
    Quit,
}
