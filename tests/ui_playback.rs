//! Time playback in the window, driven through egui_kittest: the filtered period in weekly
//! frames, each frame's total equal to SQL's count for its dates (moving window and
//! cumulative), one scale pooled over all frames, and playing on its own.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

mod common;

use std::path::Path;

use common::ui::{harness, wait_idle};
use egui_kittest::kittest::Queryable as _;
use teplokarta::ui::Lang;

/// Appeals received between two days (inclusive), as SQL counts them.
fn count_between(db: &Path, from: &str, to: &str) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT count(*) FROM appeals WHERE substr(received_at, 1, 10) BETWEEN ?1 AND ?2",
        [from, to],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as u64
}

#[test]
fn weekly_frames_show_sql_counts_on_one_scale_and_play_on_their_own() {
    let (_d, db) = common::demo_db(20_000, 11);
    let mut harness = harness(&db, Lang::En);
    wait_idle(&mut harness);
    {
        let app = harness.state_mut().as_mut().unwrap();
        let filter = app.filter_mut();
        filter.from = "2021-09-01".parse().ok();
        filter.to = "2021-09-30".parse().ok();
    }
    wait_idle(&mut harness);

    harness.get_by_label("View").click();
    harness.run_steps(2);
    harness.get_by_label("Time playback").click();
    wait_idle(&mut harness);
    let app = harness.state().as_ref().unwrap();
    let playback = app.playback().expect("the bar is open");
    assert_eq!(playback.frames.len(), 5, "1–30 September in weeks");
    assert!(app.playback_scale_ready());
    // The first frame: 1–7 September.
    harness.get_by_label("1–7 September 2021");
    harness.get_by_label(&Lang::En.number(count_between(&db, "2021-09-01", "2021-09-07")));
    let first_breaks = harness
        .state()
        .as_ref()
        .unwrap()
        .view()
        .unwrap()
        .breaks
        .clone();

    // A frame forward: 8–14 September, on the same scale.
    harness.get_by_label("▶").click();
    wait_idle(&mut harness);
    harness.get_by_label("8–14 September 2021");
    harness.get_by_label(&Lang::En.number(count_between(&db, "2021-09-08", "2021-09-14")));
    let app = harness.state().as_ref().unwrap();
    assert_eq!(
        app.view().unwrap().breaks,
        first_breaks,
        "one scale for all frames"
    );
    assert!(first_breaks.len() >= 2);
    // The user's own filter keeps the whole month.
    assert_eq!(app.persisted().filter.from, "2021-09-01".parse().ok());
    assert_eq!(app.persisted().filter.to, "2021-09-30".parse().ok());

    // Cumulative: everything from 1 September up to the frame.
    harness.get_by_label("cumulative").click();
    wait_idle(&mut harness);
    harness.get_by_label("▶").click();
    wait_idle(&mut harness);
    harness.get_by_label("▶").click();
    wait_idle(&mut harness);
    harness.get_by_label("1–21 September 2021");
    harness.get_by_label(&Lang::En.number(count_between(&db, "2021-09-01", "2021-09-21")));

    // Playing moves on by itself (about a second per frame) and stops at the end.
    harness.get_by_label("▶ Play").click();
    let mut frames_seen = std::collections::BTreeSet::new();
    for _ in 0..600 {
        harness.step();
        let p = harness.state().as_ref().unwrap().playback().unwrap();
        frames_seen.insert(p.frame);
        if !p.playing {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let p = harness.state().as_ref().unwrap().playback().unwrap();
    assert!(!p.playing, "stops at the last frame");
    assert_eq!(p.frame, 4);
    assert!(frames_seen.len() >= 2, "{frames_seen:?}");

    // Closing the bar brings back the whole period.
    harness.get_by_label("Close").click();
    wait_idle(&mut harness);
    assert!(harness.state().as_ref().unwrap().playback().is_none());
    harness.get_by_label(&Lang::En.number(count_between(&db, "2021-09-01", "2021-09-30")));
}
