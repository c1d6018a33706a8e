//! The `--faults` notation: faults (`429@2s`, `cut-off`, ...) and plans
//! (`1:503,openapiKeyCreate#1:reset-after`, `seed=7,rate=0.2,kinds=...`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::http::Method;

use super::{Fault, FaultPlan, FaultSpecError, Rule, Selector};

/// A duration as `--faults` writes it: `2s`, `250ms`, `1.5s`.
pub(super) struct DisplayDuration(pub(super) Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wait = self.0;
        if wait.subsec_nanos() == 0 {
            write!(f, "{}s", wait.as_secs())
        } else if wait.subsec_nanos().is_multiple_of(1_000_000) {
            write!(f, "{}ms", wait.as_millis())
        } else {
            write!(f, "{}s", wait.as_secs_f64())
        }
    }
}

impl FromStr for Fault {
    type Err = FaultSpecError;

    /// One fault in the `--faults` notation: `429`, `429@2s`, `429-bare`,
    /// `500`, `503`, `502`, `504`, `json-NNN`, `html-NNN`, `slow@DURATION`,
    /// `cut-off`, `reset-before`, `reset-after`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        let fault = match lower.as_str() {
            "429" => Fault::TooManyRequests { retry_after: None },
            "429-bare" => Fault::BareTooManyRequests,
            "cut-off" | "cut" => Fault::CutOffBody,
            "reset-before" => Fault::ResetBeforeActing,
            "reset-after" => Fault::ResetAfterActing,
            other => {
                if let Some(wait) = other.strip_prefix("429@") {
                    Fault::TooManyRequests {
                        retry_after: Some(parse_duration(wait)?),
                    }
                } else if let Some(wait) = other.strip_prefix("slow@") {
                    Fault::Slow(parse_duration(wait)?)
                } else if let Some(code) = other.strip_prefix("json-") {
                    Fault::Status(parse_status(code)?)
                } else if let Some(code) = other.strip_prefix("html-") {
                    Fault::HtmlGateway(parse_status(code)?)
                } else if other.bytes().all(|byte| byte.is_ascii_digit()) && !other.is_empty() {
                    match parse_status(other)? {
                        code @ (502 | 504) => Fault::HtmlGateway(code),
                        code => Fault::Status(code),
                    }
                } else {
                    return Err(FaultSpecError::new(format_args!(
                        "unknown fault {text:?} (expected 429, 429@DURATION, 429-bare, 500, \
                         503, 502, 504, json-NNN, html-NNN, slow@DURATION, cut-off, \
                         reset-before or reset-after)"
                    )));
                }
            }
        };
        Ok(fault)
    }
}

/// A status for a fault: 400 to 599.
fn parse_status(text: &str) -> Result<u16, FaultSpecError> {
    text.parse::<u16>()
        .ok()
        .filter(|code| (400..=599).contains(code))
        .ok_or_else(|| {
            FaultSpecError::new(format_args!(
                "{text:?} is not an HTTP error status (400 to 599)"
            ))
        })
}

/// `2`, `2s`, `1.5s`, `250ms`.
fn parse_duration(text: &str) -> Result<Duration, FaultSpecError> {
    let bad = || {
        FaultSpecError::new(format_args!(
            "{text:?} is not a duration (e.g. 2, 2s, 1.5s or 250ms)"
        ))
    };
    let (number, scale) = if let Some(millis) = text.strip_suffix("ms") {
        (millis, 1e-3)
    } else if let Some(secs) = text.strip_suffix('s') {
        (secs, 1.0)
    } else {
        (text, 1.0)
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    Duration::try_from_secs_f64(value * scale).map_err(|_| bad())
}

impl FromStr for FaultPlan {
    type Err = FaultSpecError;

    /// Parses the `--faults` format described on [`FaultPlan`].
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("off") || spec.eq_ignore_ascii_case("none") {
            return Ok(Self::new());
        }
        if spec.is_empty() {
            return Err(FaultSpecError::new(
                "empty fault spec (use `off` for no faults)",
            ));
        }
        let mut plan = Self::new();
        let (mut seed, mut rate, mut kinds) = (None, None, None);
        for item in spec.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(FaultSpecError::new(format_args!(
                    "empty item in fault spec {spec:?}"
                )));
            }
            if let Some((key, value)) = item.split_once('=') {
                let value = value.trim();
                let duplicate =
                    || FaultSpecError::new(format_args!("{} is given twice", key.trim()));
                match key.trim() {
                    "seed" => {
                        let parsed = value.parse::<u64>().map_err(|_| {
                            FaultSpecError::new(format_args!(
                                "seed must be an unsigned integer, got {value:?}"
                            ))
                        })?;
                        if seed.replace(parsed).is_some() {
                            return Err(duplicate());
                        }
                    }
                    "rate" => {
                        let parsed = value
                            .parse::<f64>()
                            .ok()
                            .filter(|rate| (0.0..=1.0).contains(rate))
                            .ok_or_else(|| {
                                FaultSpecError::new(format_args!(
                                    "rate must be a number from 0 to 1, got {value:?}"
                                ))
                            })?;
                        if rate.replace(parsed).is_some() {
                            return Err(duplicate());
                        }
                    }
                    "kinds" => {
                        let parsed = value
                            .split('|')
                            .map(str::parse)
                            .collect::<Result<Vec<Fault>, _>>()?;
                        if kinds.replace(parsed).is_some() {
                            return Err(duplicate());
                        }
                    }
                    other => {
                        return Err(FaultSpecError::new(format_args!(
                            "unknown setting {other:?} (expected seed, rate or kinds)"
                        )));
                    }
                }
                continue;
            }
            let rule = parse_rule(item)?;
            plan.rules.push(rule);
        }
        match (seed, rate, kinds) {
            (None, None, None) => {}
            (seed, Some(rate), Some(kinds)) => {
                plan = plan.with_random(seed.unwrap_or(0), rate, kinds);
            }
            _ => {
                return Err(FaultSpecError::new(
                    "random faults need both rate=R and kinds=FAULT|FAULT|...",
                ));
            }
        }
        Ok(plan)
    }
}

/// `N:FAULT`, `OPERATION#N:FAULT` or `METHOD#N:FAULT`.
fn parse_rule(item: &str) -> Result<Rule, FaultSpecError> {
    let (selector, fault) = item.split_once(':').ok_or_else(|| {
        FaultSpecError::new(format_args!(
            "{item:?} is neither N:FAULT, NAME#N:FAULT nor KEY=VALUE"
        ))
    })?;
    let fault: Fault = fault.parse()?;
    let (name, nth) = match selector.trim().rsplit_once('#') {
        Some((name, nth)) => (Some(name.trim()), nth.trim()),
        None => (None, selector.trim()),
    };
    let nth = nth
        .parse::<u64>()
        .ok()
        .filter(|nth| *nth >= 1)
        .ok_or_else(|| {
            FaultSpecError::new(format_args!(
                "in {item:?}: the request number must be 1 or more, got {nth:?}"
            ))
        })?;
    let selector = match name {
        None => Selector::Every,
        Some(name) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase()) => {
            const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
            if !METHODS.contains(&name) {
                return Err(FaultSpecError::new(format_args!(
                    "unknown HTTP method {name:?} (expected one of {})",
                    METHODS.join(", ")
                )));
            }
            let method = Method::from_bytes(name.as_bytes())
                .map_err(|_| FaultSpecError::new(format_args!("bad method {name:?}")))?;
            Selector::Method(method)
        }
        Some(name) => {
            if !clickhouse_cloud_types::ops::ALL_IDS.contains(&name) {
                return Err(FaultSpecError::new(format_args!(
                    "unknown operationId {name:?} (e.g. {})",
                    clickhouse_cloud_types::ops::ALL_IDS.join(", ")
                )));
            }
            Selector::Operation(name.to_owned())
        }
    };
    Ok(Rule {
        selector,
        nth,
        fault,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_print_back() {
        let cases = [
            ("429", Fault::TooManyRequests { retry_after: None }),
            (
                "429@2s",
                Fault::TooManyRequests {
                    retry_after: Some(Duration::from_secs(2)),
                },
            ),
            (
                "429@0s",
                Fault::TooManyRequests {
                    retry_after: Some(Duration::ZERO),
                },
            ),
            ("429-bare", Fault::BareTooManyRequests),
            ("500", Fault::Status(500)),
            ("503", Fault::Status(503)),
            ("502", Fault::HtmlGateway(502)),
            ("504", Fault::HtmlGateway(504)),
            ("json-502", Fault::Status(502)),
            ("html-503", Fault::HtmlGateway(503)),
            ("slow@250ms", Fault::Slow(Duration::from_millis(250))),
            ("slow@3s", Fault::Slow(Duration::from_secs(3))),
            ("cut-off", Fault::CutOffBody),
            ("reset-before", Fault::ResetBeforeActing),
            ("reset-after", Fault::ResetAfterActing),
        ];
        for (text, fault) in cases {
            assert_eq!(text.parse::<Fault>(), Ok(fault.clone()), "{text}");
            assert_eq!(fault.to_string(), text);
        }
        let aliases = [
            ("429@1.5", Duration::from_millis(1500)),
            ("429@2", Duration::from_secs(2)),
            ("429@100ms", Duration::from_millis(100)),
        ];
        for (text, wait) in aliases {
            assert_eq!(
                text.parse::<Fault>(),
                Ok(Fault::TooManyRequests {
                    retry_after: Some(wait)
                })
            );
        }
        assert_eq!("CUT".parse::<Fault>(), Ok(Fault::CutOffBody));
        for bad in [
            "",
            "42",
            "200",
            "600",
            "70000",
            "reset",
            "slow",
            "slow@",
            "slow@-1",
            "slow@x",
            "429@1e400",
            "html-",
            "json-abc",
            "429@2h",
        ] {
            let error = bad.parse::<Fault>().unwrap_err();
            assert!(!error.to_string().is_empty(), "{bad}");
        }
    }

    #[test]
    fn scripted_specs_parse() {
        let plan: FaultPlan = "1:503, 3:reset-before,openapiKeyCreate#1:reset-after,POST#2:429@1s"
            .parse()
            .unwrap();
        let expected = FaultPlan::new()
            .on_request(1, Fault::Status(503))
            .on_request(3, Fault::ResetBeforeActing)
            .on_operation("openapiKeyCreate", 1, Fault::ResetAfterActing)
            .on_method(
                Method::POST,
                2,
                Fault::TooManyRequests {
                    retry_after: Some(Duration::from_secs(1)),
                },
            );
        assert_eq!(plan, expected);
        assert!("off".parse::<FaultPlan>().unwrap().is_empty());
        assert!("NONE".parse::<FaultPlan>().unwrap().is_empty());
    }

    #[test]
    fn random_specs_parse() {
        let plan: FaultPlan = "seed=7,rate=0.2,kinds=429|503|502|reset-after"
            .parse()
            .unwrap();
        let expected = FaultPlan::random(
            7,
            0.2,
            [
                Fault::TooManyRequests { retry_after: None },
                Fault::Status(503),
                Fault::HtmlGateway(502),
                Fault::ResetAfterActing,
            ],
        );
        assert_eq!(plan, expected);
        let mixed: FaultPlan = "rate=1,kinds=cut-off,2:500".parse().unwrap();
        assert_eq!(
            mixed,
            FaultPlan::new()
                .on_request(2, Fault::Status(500))
                .with_random(0, 1.0, [Fault::CutOffBody])
        );
    }

    #[test]
    fn bad_specs_say_why() {
        let cases = [
            ("", "empty"),
            ("1:503,", "empty item"),
            ("0:503", "1 or more"),
            ("x:503", "1 or more"),
            ("1:teapot", "unknown fault"),
            ("1", "neither"),
            ("keyCreate#1:503", "unknown operationId"),
            ("FETCH#1:503", "unknown HTTP method"),
            ("openapiKeyCreate#0:503", "1 or more"),
            ("seed=7", "need both"),
            ("rate=0.5", "need both"),
            ("rate=2,kinds=503", "from 0 to 1"),
            ("rate=NaN,kinds=503", "from 0 to 1"),
            ("seed=-1,rate=1,kinds=503", "unsigned"),
            ("rate=1,kinds=503|nope", "unknown fault"),
            ("rate=1,kinds=", "unknown fault"),
            ("rate=1,rate=1,kinds=503", "twice"),
            ("speed=1", "unknown setting"),
        ];
        for (spec, needle) in cases {
            let error = spec.parse::<FaultPlan>().unwrap_err().to_string();
            assert!(error.contains(needle), "{spec:?}: {error}");
        }
    }
}
