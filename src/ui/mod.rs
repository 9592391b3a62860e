//! Panels and widgets of the window, the theme (the only place with colours, ramps and fonts)
//! and the translations. UI code reads prepared results and emits [`crate::app::Command`]s; it
//! never runs SQL.

mod command;
pub mod i18n;
pub mod panels;

pub use command::Command;
pub mod theme;

pub use i18n::{Lang, Texts};
