//! Frame times of the window while the map is dragged and zoomed with the density layer on:
//! the UI thread's own work per frame (egui layout, the walkers plugins, tessellation inputs),
//! measured through egui_kittest without a GPU. Run with `cargo bench --bench frame`
//! (`-- 132000` for the smaller demo); it prints the median, 95th percentile and worst frame.
//! A frame under 16.7 ms leaves room for 60 frames per second.

mod common;

use common::demo;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use teplokarta::app::{App, Startup};
use teplokarta::ui::Lang;

type State = Option<App>;

fn wait_idle(harness: &mut Harness<'static, State>) {
    for _ in 0..6_000 {
        harness.step();
        if harness.state().as_ref().is_some_and(App::is_idle) {
            harness.run_steps(3);
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("background jobs did not finish");
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<44} frames {:>4}  median {:>6.2} ms  p95 {:>6.2} ms  worst {:>6.2} ms",
        times.len(),
        ms(at(0.5)),
        ms(at(0.95)),
        ms(at(1.0))
    );
}

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let path = demo(rows);
    let startup = Startup {
        database: Some(path.into()),
        lang: Some(Lang::En),
        fresh: true,
        ..Startup::default()
    };
    let mut harness: Harness<'static, State> = Harness::builder()
        .with_size([1600.0, 1000.0])
        .build_ui_state(
            move |ui, state: &mut State| {
                let app = state.get_or_insert_with(|| App::new(ui.ctx(), None, startup.clone()));
                app.logic_step(&ui.ctx().clone());
                app.ui_root(ui);
            },
            None,
        );
    wait_idle(&mut harness);
    harness.get_by_label("Appeal density").click();
    harness.step();
    wait_idle(&mut harness);
    println!("{rows} appeals, density layer on, 1600×1000 window");

    let centre = egui::pos2(900.0, 450.0);
    let mut still = Vec::new();
    for _ in 0..60 {
        let t = Instant::now();
        harness.step();
        still.push(t.elapsed());
    }
    report("still", still);

    // Hover: the tooltip with the density and the appeals within the radius follows the pointer.
    let mut hover = Vec::new();
    for k in 0..60 {
        harness.event(egui::Event::PointerMoved(
            centre + egui::vec2(k as f32 * 2.0, k as f32),
        ));
        let t = Instant::now();
        harness.step();
        hover.push(t.elapsed());
    }
    report("hover with the density tooltip", hover);

    pan_and_zoom(&mut harness, centre, "");
    // The same without the appeals layer (points or cells), to separate the two layers' costs.
    harness.get_by_label("Classes").click();
    harness.run_steps(2);
    harness.get_by_label("Points").click();
    harness.step();
    wait_idle(&mut harness);
    pan_and_zoom(&mut harness, centre, ", points layer off");

    // The new surfaces arrive after the map stands still: frames while they are applied.
    let mut settle = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        let t = Instant::now();
        harness.step();
        settle.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(5));
    }
    report("standing still while new surfaces arrive", settle);
}

fn pan_and_zoom(harness: &mut Harness<'static, State>, centre: egui::Pos2, note: &str) {
    // Drag: press, then move 6 points a frame for 180 frames.
    harness.event(egui::Event::PointerMoved(centre));
    harness.event(egui::Event::PointerButton {
        pos: centre,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    harness.step();
    let mut drag = Vec::new();
    let mut pos = centre;
    for k in 0..180 {
        let dir = if (k / 45) % 2 == 0 { 1.0 } else { -1.0 };
        pos += egui::vec2(6.0 * dir, 3.0 * dir);
        harness.event(egui::Event::PointerMoved(pos));
        let t = Instant::now();
        harness.step();
        drag.push(t.elapsed());
    }
    harness.event(egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    harness.step();
    report(&format!("drag{note}"), drag);

    // Zoom with the wheel: in and out, one notch every other frame.
    let mut zoom = Vec::new();
    for k in 0..160 {
        if k % 2 == 0 {
            let dy = if (k / 40) % 2 == 0 { 1.0 } else { -1.0 };
            harness.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Line,
                delta: egui::vec2(0.0, dy),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Wheel,
                modifiers: egui::Modifiers::NONE,
            });
        }
        let t = Instant::now();
        harness.step();
        zoom.push(t.elapsed());
    }
    report(&format!("wheel zoom in and out{note}"), zoom);
}
