//! Parsing `received_at`/`resolved_at`: ISO-8601 with or without a UTC offset. The appeal's own
//! local wall-clock time (the part before the offset) is what counts: a day is a calendar day in
//! the appeal's local time, so `2021-03-01T23:30:00+05:00` belongs to 1 March.

use jiff::civil::{Date, DateTime};

/// Parses an ISO-8601 timestamp (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` or with a space
/// instead of `T`, optionally followed by `Z`, `±HH:MM`, `±HHMM` or `±HH`) into its local civil
/// date-time. `None` when it is not such a timestamp.
pub fn parse_timestamp(text: &str) -> Option<DateTime> {
    let text = text.trim();
    if text.len() < 10 || !text.is_char_boundary(10) {
        return None;
    }
    let (date_part, rest) = text.split_at(10);
    let date: Date = parse_date_strict(date_part)?;
    if rest.is_empty() {
        return Some(date.to_datetime(jiff::civil::Time::midnight()));
    }
    let rest = rest.strip_prefix(['T', ' ', 't'])?;
    let time_part = strip_offset(rest)?;
    // Fast path for the usual `HH:MM:SS`.
    if let [h1, h2, b':', m1, m2, b':', s1, s2] = time_part.as_bytes()
        && [h1, h2, m1, m2, s1, s2].iter().all(|b| b.is_ascii_digit())
    {
        let two = |a: &u8, b: &u8| ((a - b'0') * 10 + (b - b'0')) as i8;
        let time = jiff::civil::Time::new(two(h1, h2), two(m1, m2), two(s1, s2), 0).ok()?;
        return Some(date.to_datetime(time));
    }
    let time: jiff::civil::Time = time_part.parse().ok()?;
    Some(date.to_datetime(time))
}

/// The local calendar date of a timestamp; see [`parse_timestamp`].
pub fn parse_local_date(text: &str) -> Option<Date> {
    parse_timestamp(text).map(|dt| dt.date())
}

fn parse_date_strict(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.iter().enumerate().all(|(i, b)| {
        if i == 4 || i == 7 {
            *b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    if bytes.len() != 10 || !shape_ok {
        return None;
    }
    let year: i16 = text.get(0..4)?.parse().ok()?;
    let month: i8 = text.get(5..7)?.parse().ok()?;
    let day: i8 = text.get(8..10)?.parse().ok()?;
    Date::new(year, month, day).ok()
}

/// `HH:MM[:SS[.fff]]` without a trailing `Z`/offset, validated to be a time of day.
fn strip_offset(rest: &str) -> Option<&str> {
    let rest = rest.trim_end();
    if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        return valid_time_chars(t);
    }
    // An offset starts at the last '+' or '-' (a time itself has neither).
    match rest.rfind(['+', '-']) {
        Some(pos) => {
            let (time, offset) = rest.split_at(pos);
            let digits: String = offset.chars().skip(1).filter(|c| *c != ':').collect();
            let ok = matches!(digits.len(), 2 | 4) && digits.chars().all(|c| c.is_ascii_digit());
            if !ok {
                return None;
            }
            valid_time_chars(time.trim_end())
        }
        None => valid_time_chars(rest),
    }
}

fn valid_time_chars(t: &str) -> Option<&str> {
    (t.len() >= 5
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == ':' || c == '.' || c == ','))
    .then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn iso_variants() {
        let at = |s: &str| parse_timestamp(s).map(|d| d.to_string());
        assert_eq!(
            at("2021-03-01T23:30:00+05:00").as_deref(),
            Some("2021-03-01T23:30:00")
        );
        assert_eq!(
            at("2021-03-01 23:30:00").as_deref(),
            Some("2021-03-01T23:30:00")
        );
        assert_eq!(
            at("2021-03-01T18:30:00Z").as_deref(),
            Some("2021-03-01T18:30:00")
        );
        assert_eq!(
            at("2021-03-01T08:05+0500").as_deref(),
            Some("2021-03-01T08:05:00")
        );
        assert_eq!(
            at("2021-03-01T08:05:07.250-03").as_deref(),
            Some("2021-03-01T08:05:07.25")
        );
        assert_eq!(at("2021-03-01").as_deref(), Some("2021-03-01T00:00:00"));
        assert_eq!(
            parse_local_date("2021-12-31T23:59:59+05:00"),
            Some(date(2021, 12, 31))
        );
    }

    #[test]
    fn garbage_is_none() {
        for s in [
            "",
            "вчера",
            "-001-01-01",
            "+021-01-01",
            "2021-13-01",
            "2021-02-30T10:00",
            "01.03.2021",
            "2021-03-01T25:00",
            "2021-03-01X10:00",
            "2021-03-01T10:00+5:0x",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }
}
