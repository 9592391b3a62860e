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
    /// Show File → Connect… (a PostgreSQL source).
    ShowConnect,
    /// Open a PostgreSQL table: the connection string as typed and the table (`None`:
    /// `appeals`).
    Connect {
        url: String,
        table: Option<String>,
    },
    /// Boundaries from a GeoJSON file, with the name property (`None`: detected).
    OpenBoundaries(PathBuf, Option<String>),
    UseSchematicBoundaries,
    OpenDemo,
    FitToData,
    /// Select a municipality label (or clear the selection).
    Select(Option<u32>),
    /// Zoom the map to a municipality label.
    ZoomTo(u32),
    /// Show or hide the municipality × category table.
    ShowPivot(bool),
    ExportPivotCsv,
    /// Export the density surface on screen (exact mode) as GeoTIFF or PNG.
    ExportHeat,
    CopyPivot,
    /// Switch the map between the heat map (`false`) and the problem map (`true`).
    SetProblemMode(bool),
    /// Select a problem zone (or clear the selection).
    SelectZone(Option<u32>),
    /// Zoom the map to a problem zone.
    ZoomToZone(u32),
    /// Save a problem profile to the user's profiles file (`true`: as a new profile).
    SaveProfile(crate::analysis::profiles::Profile, bool),
    /// Delete one of the user's profiles (a built-in one returns to its default).
    DeleteProfile(String),
    /// Export the problem zones as GeoJSON or CSV.
    ExportProblems,
    /// Open the import dialog.
    ShowImport,
    /// Close it.
    CloseImport,
    /// Pick the import's input (`false`) or target (`true`) with the system file picker.
    ImportBrowse(bool),
    /// Read the first rows of the first input and propose a mapping.
    ImportPreview,
    /// Import with the dialog's settings.
    StartImport,
    /// Switch the basemap (remembered).
    SetBasemap(crate::tiles::choice::BasemapChoice),
    /// Pick an MBTiles or PMTiles file for the basemap.
    PickTileFile,
    /// Pick a folder of tiles for the basemap (`true`: TMS rows).
    PickTileFolder(bool),
    SetTileCacheLimitMb(u64),
    ClearTileCache,
    /// Compare two periods: side by side, as a difference, or not (heat map only; leaves the
    /// problem map and stops a playback).
    SetCompare(crate::analysis::compare::CompareMode),
    /// Open File → Export map… (`false`: close it).
    ShowExport,
    CloseExport,
    /// Pick the export's file with the system file picker.
    BrowseExport,
    /// Export the view on screen with the dialog's settings (in the background).
    StartExport,
    /// Time playback under the map.
    Playback(PlaybackCommand),
    SetLang(Lang),
    /// Enter (`true`) or leave presentation mode.
    SetPresentation(bool),
    /// The text scale of presentation mode (remembered).
    SetPresentationScale(f32),
    /// Open the "save current view" dialog.
    ShowSaveView,
    /// Save the current view under this name (replacing a view of the same name).
    SaveView(String),
    CloseSaveView,
    /// Go to a saved view (its filter, layers and extent).
    GoToView(usize),
    /// Go to the next (`true`) or previous saved view.
    StepView(bool),
    DeleteView(usize),
    /// Write the saved views to a file chosen in the file picker.
    ExportViews,
    /// Merge the views of a file chosen in the file picker.
    ImportViews,
    ShowAbout(bool),
    DismissError(usize),
    DismissNotice,
    CloseDialog,
    Quit,
}

/// What the time-playback bar asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum PlaybackCommand {
    /// Show the bar over the filtered period (frames of the current step).
    Open,
    Close,
    Play(bool),
    /// Go to frame N.
    Seek(usize),
    Step(crate::analysis::playback::Step),
    Window(crate::analysis::playback::Window),
}
