//! Time playback: the filtered period cut into frames of a week or a day, and the date range each
//! frame shows — everything from the start (cumulative) or just that week or day (moving
//! window). The window and exports step through these frames; the filter of a frame is the
//! user's filter with only its dates replaced.

use jiff::ToSpan as _;
use jiff::civil::Date;

use super::Filter;

/// How far one frame moves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Step {
    #[default]
    Week,
    Day,
}

/// What one frame shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Window {
    /// Only the frame's own week or day.
    #[default]
    Moving,
    /// Everything from the start of the period up to the frame's last day.
    Cumulative,
}

/// The frames of the period `first..=last`: each frame's first and last day (the last frame may
/// be shorter than a week). Empty when `last` is before `first`.
pub fn frames(first: Date, last: Date, step: Step) -> Vec<(Date, Date)> {
    let days = match step {
        Step::Week => 7,
        Step::Day => 1,
    };
    let mut out = Vec::new();
    let mut start = first;
    while start <= last {
        let end = start
            .checked_add((days - 1).days())
            .map_or(last, |e| e.min(last));
        out.push((start, end));
        match end.checked_add(1.day()) {
            Ok(next) => start = next,
            Err(_) => break,
        }
    }
    out
}

/// The date range frame `frame` of `frames` shows under `window` (`None` past the end).
pub fn frame_range(frames: &[(Date, Date)], frame: usize, window: Window) -> Option<(Date, Date)> {
    let &(start, end) = frames.get(frame)?;
    Some(match window {
        Window::Moving => (start, end),
        Window::Cumulative => (frames.first().map_or(start, |f| f.0), end),
    })
}

/// `filter` restricted to `range` (both ends inclusive); everything else unchanged.
pub fn frame_filter(filter: &Filter, range: (Date, Date)) -> Filter {
    Filter {
        from: Some(range.0),
        to: Some(range.1),
        ..filter.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn weeks_cover_the_period_without_gaps_or_overlaps() {
        let f = frames(d("2021-09-01"), d("2021-09-30"), Step::Week);
        assert_eq!(f.len(), 5);
        assert_eq!(f[0], (d("2021-09-01"), d("2021-09-07")));
        assert_eq!(
            f[4],
            (d("2021-09-29"), d("2021-09-30")),
            "a short last week"
        );
        for pair in f.windows(2) {
            assert_eq!(pair[0].1.checked_add(1.day()).ok(), Some(pair[1].0));
        }
        assert_eq!(frames(d("2021-09-01"), d("2021-09-03"), Step::Day).len(), 3);
        assert!(frames(d("2021-09-02"), d("2021-09-01"), Step::Week).is_empty());
    }

    #[test]
    fn windows_are_the_frame_or_everything_so_far() {
        let f = frames(d("2021-09-01"), d("2021-09-30"), Step::Week);
        assert_eq!(
            frame_range(&f, 2, Window::Moving),
            Some((d("2021-09-15"), d("2021-09-21")))
        );
        assert_eq!(
            frame_range(&f, 2, Window::Cumulative),
            Some((d("2021-09-01"), d("2021-09-21")))
        );
        assert_eq!(frame_range(&f, 5, Window::Moving), None);
        let mut filter = Filter::default();
        filter.categories.insert("ЖКХ".into());
        let framed = frame_filter(&filter, (d("2021-09-15"), d("2021-09-21")));
        assert_eq!(framed.categories, filter.categories);
        assert_eq!(framed.from, Some(d("2021-09-15")));
        assert_eq!(framed.to, Some(d("2021-09-21")));
    }
}
