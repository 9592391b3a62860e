//! The time-playback bar under the map: play/pause, a frame back and forward, a slider over the
//! frames with the frame's dates in words, week or day steps, a moving or cumulative window.
//! Draws from read-only inputs and pushes [`Command`]s.

use egui::{RichText, Ui};

use super::command::{Command, PlaybackCommand};
use super::i18n::Lang;
use crate::analysis::playback::{Step, Window};

/// What the bar shows.
pub struct PlaybackBar {
    /// Number of frames in the period.
    pub frames: usize,
    pub frame: usize,
    pub playing: bool,
    pub step: Step,
    pub window: Window,
    /// The frame's dates in words.
    pub dates: String,
    /// The pooled scale is still being computed (play waits for it).
    pub scale_pending: bool,
}

/// Draws the bar.
pub fn playback_bar_ui(ui: &mut Ui, lang: Lang, bar: &PlaybackBar, commands: &mut Vec<Command>) {
    let t = lang.texts();
    ui.horizontal(|ui| {
        let play_label = if bar.playing { t.pause } else { t.play };
        if ui
            .add_enabled(
                !bar.scale_pending && bar.frames > 0,
                egui::Button::new(play_label),
            )
            .clicked()
        {
            commands.push(Command::Playback(PlaybackCommand::Play(!bar.playing)));
        }
        if ui
            .add_enabled(bar.frame > 0, egui::Button::new(t.frame_back))
            .clicked()
        {
            commands.push(Command::Playback(PlaybackCommand::Seek(bar.frame - 1)));
        }
        if ui
            .add_enabled(
                bar.frame + 1 < bar.frames,
                egui::Button::new(t.frame_forward),
            )
            .clicked()
        {
            commands.push(Command::Playback(PlaybackCommand::Seek(bar.frame + 1)));
        }
        let mut frame = bar.frame;
        let last = bar.frames.saturating_sub(1);
        let label = ui.label(t.playback_frame);
        if ui
            .add(egui::Slider::new(&mut frame, 0..=last).show_value(false))
            .labelled_by(label.id)
            .changed()
        {
            commands.push(Command::Playback(PlaybackCommand::Seek(frame)));
        }
        ui.label(RichText::new(&bar.dates).strong());
        if bar.scale_pending {
            ui.spinner();
        }
        ui.separator();
        for (step, name) in [(Step::Week, t.step_week), (Step::Day, t.step_day)] {
            if ui.selectable_label(bar.step == step, name).clicked() && bar.step != step {
                commands.push(Command::Playback(PlaybackCommand::Step(step)));
            }
        }
        ui.separator();
        for (window, name) in [
            (Window::Moving, t.window_moving),
            (Window::Cumulative, t.window_cumulative),
        ] {
            if ui.selectable_label(bar.window == window, name).clicked() && bar.window != window {
                commands.push(Command::Playback(PlaybackCommand::Window(window)));
            }
        }
        ui.separator();
        if ui.button(t.close).clicked() {
            commands.push(Command::Playback(PlaybackCommand::Close));
        }
    });
}
