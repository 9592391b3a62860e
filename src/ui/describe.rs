//! A filter said in words, for titles, exports and provenance lines: «Отключения
//! электроэнергии в СНТ · 1 сентября – 30 ноября 2021 · Тюменский район». Plain text only (no
//! widgets), so the command line and headless exports use the same words as the window.

use jiff::civil::Date;

use super::i18n::Lang;
use crate::analysis::Filter;

const MONTHS_RU: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A day in words: «1 сентября 2021», "1 September 2021".
pub fn day_in_words(date: Date, lang: Lang) -> String {
    format!("{} {}", day_month_in_words(date, lang), date.year())
}

/// A day without its year: «1 сентября», "1 September".
fn day_month_in_words(date: Date, lang: Lang) -> String {
    let month = usize::try_from(date.month() - 1).unwrap_or(0);
    let name = match lang {
        Lang::Ru => MONTHS_RU.get(month),
        Lang::En => MONTHS_EN.get(month),
    }
    .copied()
    .unwrap_or_default();
    format!("{} {name}", date.day())
}

/// A period in words: «1 сентября – 30 ноября 2021» (the year said once when both ends share
/// it), «с 1 сентября 2021», «по 30 ноября 2021», «за всё время».
pub fn period_in_words(from: Option<Date>, to: Option<Date>, lang: Lang) -> String {
    match (from, to, lang) {
        (Some(a), Some(b), _) if a == b => day_in_words(a, lang),
        // «1–7 сентября 2021»: the month and year said once.
        (Some(a), Some(b), _) if a.year() == b.year() && a.month() == b.month() => {
            format!("{}–{}", a.day(), day_in_words(b, lang))
        }
        (Some(a), Some(b), _) if a.year() == b.year() => {
            format!(
                "{} – {}",
                day_month_in_words(a, lang),
                day_in_words(b, lang)
            )
        }
        (Some(a), Some(b), _) => format!("{} – {}", day_in_words(a, lang), day_in_words(b, lang)),
        (Some(a), None, Lang::Ru) => format!("с {}", day_in_words(a, lang)),
        (Some(a), None, Lang::En) => format!("from {}", day_in_words(a, lang)),
        (None, Some(b), Lang::Ru) => format!("по {}", day_in_words(b, lang)),
        (None, Some(b), Lang::En) => format!("until {}", day_in_words(b, lang)),
        (None, None, Lang::Ru) => "за всё время".to_owned(),
        (None, None, Lang::En) => "all time".to_owned(),
    }
}

/// Up to three names, then "and N more".
fn names(items: Vec<String>, lang: Lang) -> String {
    const SHOWN: usize = 3;
    if items.len() <= SHOWN {
        return items.join(", ");
    }
    let more = items.len() - SHOWN;
    let head = items[..SHOWN].join(", ");
    match lang {
        Lang::Ru => format!("{head} и ещё {more}"),
        Lang::En => format!("{head} and {more} more"),
    }
}

/// The filter in words, parts joined by « · »: what (categories or subcategories, or «все
/// обращения»), the period, where (municipalities), and the sources and statuses when chosen.
/// `what` replaces the first part when the view has a name of its own (a problem profile).
pub fn filter_in_words(filter: &Filter, what: Option<&str>, lang: Lang) -> String {
    let t = lang.texts();
    let mut parts = Vec::new();
    let mut topics: Vec<String> = filter.categories.iter().cloned().collect();
    topics.extend(
        filter
            .subcategories
            .iter()
            .map(|(c, s)| if s.is_empty() { c.clone() } else { s.clone() }),
    );
    parts.push(match what {
        Some(what) => what.to_owned(),
        None if topics.is_empty() => match lang {
            Lang::Ru => "Все обращения".to_owned(),
            Lang::En => "All appeals".to_owned(),
        },
        None => names(topics, lang),
    });
    parts.push(period_in_words(filter.from, filter.to, lang));
    if !filter.municipalities.is_empty() {
        let places = filter
            .municipalities
            .iter()
            .map(|m| {
                if m.is_empty() {
                    t.unknown_municipality.to_owned()
                } else {
                    m.clone()
                }
            })
            .collect();
        parts.push(names(places, lang));
    }
    if !filter.sources.is_empty() {
        parts.push(names(
            filter
                .sources
                .iter()
                .map(|s| t.source(s).to_owned())
                .collect(),
            lang,
        ));
    }
    if !filter.statuses.is_empty() {
        parts.push(names(
            filter
                .statuses
                .iter()
                .map(|s| t.status(s).to_owned())
                .collect(),
            lang,
        ));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn periods_read_as_people_write_them() {
        let (a, b) = (date("2021-09-01"), date("2021-11-30"));
        assert_eq!(
            period_in_words(Some(a), Some(b), Lang::Ru),
            "1 сентября – 30 ноября 2021"
        );
        assert_eq!(
            period_in_words(Some(a), Some(b), Lang::En),
            "1 September – 30 November 2021"
        );
        assert_eq!(
            period_in_words(Some(date("2020-12-28")), Some(b), Lang::Ru),
            "28 декабря 2020 – 30 ноября 2021"
        );
        assert_eq!(
            period_in_words(Some(a), Some(a), Lang::Ru),
            "1 сентября 2021"
        );
        assert_eq!(period_in_words(None, None, Lang::Ru), "за всё время");
        assert_eq!(
            period_in_words(Some(a), None, Lang::En),
            "from 1 September 2021"
        );
    }

    #[test]
    fn a_filter_reads_what_when_where() {
        let mut filter = Filter {
            from: Some(date("2021-09-01")),
            to: Some(date("2021-11-30")),
            ..Filter::default()
        };
        filter.municipalities.insert("Тюменский район".into());
        assert_eq!(
            filter_in_words(&filter, Some("Отключения электроэнергии в СНТ"), Lang::Ru),
            "Отключения электроэнергии в СНТ · 1 сентября – 30 ноября 2021 · Тюменский район"
        );
        filter.categories.insert("ЖКХ".into());
        filter.statuses.insert("new".into());
        let words = filter_in_words(&filter, None, Lang::Ru);
        assert!(words.starts_with("ЖКХ · 1 сентября"), "{words}");
        assert!(words.ends_with(Lang::Ru.texts().status("new")), "{words}");
        let all = filter_in_words(&Filter::default(), None, Lang::En);
        assert_eq!(all, "All appeals · all time");
    }

    #[test]
    fn long_lists_are_shortened() {
        let mut filter = Filter::default();
        for m in ["А", "Б", "В", "Г", "Д"] {
            filter.municipalities.insert(m.into());
        }
        assert_eq!(
            filter_in_words(&filter, None, Lang::Ru),
            "Все обращения · за всё время · А, Б, В и ещё 2"
        );
    }
}
