//! Go's duration syntax (`time.ParseDuration`), which go's `-metric-period`
//! takes: a sequence of decimal numbers, each with a unit (`ns`, `us` or
//! `µs`, `ms`, `s`, `m`, `h`), such as `2m`, `1h30m`, `1.5s`; `0` alone.

use std::time::Duration;

/// Parses a Go duration. Negative durations are refused: no flag here
/// has a use for them.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration {text:?} (Go syntax: 300ms, 30s, 2m, 1h30m)");
    let rest = text.strip_prefix('+').unwrap_or(text);
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() || rest.starts_with('-') {
        return Err(invalid());
    }
    let mut total_nanos: f64 = 0.0;
    let mut rest = rest;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per_unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        total_nanos += number * nanos_per_unit;
    }
    // Go's own limit: what an int64 of nanoseconds holds.
    if total_nanos > i64::MAX as f64 {
        return Err(invalid());
    }
    Ok(Duration::from_nanos(total_nanos.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_forms_parse() {
        let cases = [
            ("2m", 120_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("1.5s", 1_500_000_000),
            ("300ms", 300_000_000),
            ("10us", 10_000),
            ("7µs", 7_000),
            ("5ns", 5),
            ("0", 0),
            ("+1s", 1_000_000_000),
        ];
        for (text, nanos) in cases {
            assert_eq!(
                parse_go_duration(text),
                Ok(Duration::from_nanos(nanos)),
                "{text}"
            );
        }
    }

    #[test]
    fn other_forms_are_refused() {
        for text in ["", "5", "1x", "-1s", "s", "1.2.3s", "9999999999h"] {
            assert!(parse_go_duration(text).is_err(), "{text}");
        }
    }
}
