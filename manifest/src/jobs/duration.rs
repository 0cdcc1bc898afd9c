//! Durations as operators write them in job parameters: a whole number and a
//! unit, `90s`, `15m`, `2h`, `2d`, `1w` (or `500ms`). One unit per value keeps
//! the text readable in profiles and logs; a JSON integer is milliseconds.

/// The units a duration may use, with their length in milliseconds.
const UNITS: [(&str, u64); 6] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
];

/// How an error names the accepted forms.
pub const FORMS: &str = "90s, 15m, 2h, 2d, 1w";

/// Milliseconds of `text` (`2d` → 172 800 000), or none if it is not a duration.
pub fn parse_ms(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return None;
    }
    let number: u64 = number.parse().ok()?;
    let (_, factor) = UNITS.iter().find(|(u, _)| *u == unit)?;
    number.checked_mul(*factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_and_the_refusals() {
        assert_eq!(parse_ms("90s"), Some(90_000));
        assert_eq!(parse_ms("15m"), Some(900_000));
        assert_eq!(parse_ms("2h"), Some(7_200_000));
        assert_eq!(parse_ms("2d"), Some(172_800_000));
        assert_eq!(parse_ms("1w"), Some(604_800_000));
        assert_eq!(parse_ms("250ms"), Some(250));
        for bad in [
            "",
            "2",
            "d",
            "tomorrow",
            "2 days",
            "-1d",
            "1.5h",
            "99999999999999999999w",
        ] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
    }
}
