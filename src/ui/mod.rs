//! Panels and widgets of the window, the theme (the only place with colours, ramps and fonts)
//! and the translations. UI code reads prepared results and emits [`Command`]s or edits the
//! app's filter and settings in place; it never runs SQL.

mod command;
pub mod compare;
pub mod describe;
pub mod details_panel;
pub mod export_dialog;
pub mod filter_panel;
pub mod i18n;
pub mod import_dialog;
pub mod panels;
pub mod pivot_panel;
pub mod playback_bar;
pub mod presentation;
pub mod problem_panel;
pub mod problem_texts;
pub mod theme;

pub use command::{Command, PlaybackCommand};
pub use i18n::{Lang, Texts};
