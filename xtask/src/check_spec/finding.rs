//! What `check-spec` reports: one [`Finding`] per difference, of a
//! [`FindingKind`]. Shared by the comparison ([`super::check`]) and the
//! exemptions file ([`super::exemptions`]).

/// What kind of problem a finding is. The order is the report's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// A spec operation with no Rust operation and no exemption.
    UncoveredOperation,
    /// A Rust operation the spec lacks.
    UnknownOperation,
    /// Two Rust operations with one id.
    DuplicateOperation,
    /// A spec component schema with no Rust type and no exemption.
    UncoveredSchema,
    /// A Rust type with no spec component schema of its name.
    UnknownSchema,
    /// A `not_yet_covered` entry the spec does not have.
    StaleExemption,
    /// A `not_yet_covered` entry the SDK covers.
    CoveredButExempt,
    /// A deviation that matches no finding.
    UnusedDeviation,
    /// HTTP method.
    Method,
    /// Path template.
    Path,
    /// Beta badge against `Operation::BETA`.
    Beta,
    /// A path parameter missing on one side.
    PathParameter,
    /// A query parameter missing on one side.
    QueryParameter,
    /// A header or cookie parameter, which operations cannot express.
    UnsupportedParameter,
    /// Request body.
    RequestBody,
    /// Success response.
    Response,
    /// A spec property the Rust type lacks.
    FieldMissingInRust,
    /// A Rust field the spec lacks.
    FieldOnlyInRust,
    /// JSON type.
    Type,
    /// `format`.
    Format,
    /// Spec enum values the Rust enum lacks.
    EnumValuesMissingInRust,
    /// Rust enum values the spec lacks.
    EnumValuesOnlyInRust,
    /// An enum on one side, free values on the other.
    EnumConstraint,
    /// Required on one side, optional on the other.
    Required,
    /// `null` allowed on one side only.
    Nullable,
    /// Deprecated on one side only.
    Deprecated,
    /// Different named schema.
    Reference,
    /// Map values / additional properties.
    AdditionalProperties,
    /// A property whose name says it holds a secret, not typed as one and
    /// not reviewed.
    UntypedSecret,
}

impl FindingKind {
    /// Every kind, in report order.
    pub const ALL: &'static [FindingKind] = &[
        FindingKind::UncoveredOperation,
        FindingKind::UnknownOperation,
        FindingKind::DuplicateOperation,
        FindingKind::UncoveredSchema,
        FindingKind::UnknownSchema,
        FindingKind::StaleExemption,
        FindingKind::CoveredButExempt,
        FindingKind::UnusedDeviation,
        FindingKind::Method,
        FindingKind::Path,
        FindingKind::Beta,
        FindingKind::PathParameter,
        FindingKind::QueryParameter,
        FindingKind::UnsupportedParameter,
        FindingKind::RequestBody,
        FindingKind::Response,
        FindingKind::FieldMissingInRust,
        FindingKind::FieldOnlyInRust,
        FindingKind::Type,
        FindingKind::Format,
        FindingKind::EnumValuesMissingInRust,
        FindingKind::EnumValuesOnlyInRust,
        FindingKind::EnumConstraint,
        FindingKind::Required,
        FindingKind::Nullable,
        FindingKind::Deprecated,
        FindingKind::Reference,
        FindingKind::AdditionalProperties,
        FindingKind::UntypedSecret,
    ];

    /// The name used in JSON output and in a deviation's `kind`.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::UncoveredOperation => "uncovered-operation",
            FindingKind::UnknownOperation => "unknown-operation",
            FindingKind::DuplicateOperation => "duplicate-operation",
            FindingKind::UncoveredSchema => "uncovered-schema",
            FindingKind::UnknownSchema => "unknown-schema",
            FindingKind::StaleExemption => "stale-exemption",
            FindingKind::CoveredButExempt => "covered-but-exempt",
            FindingKind::UnusedDeviation => "unused-deviation",
            FindingKind::Method => "method",
            FindingKind::Path => "path",
            FindingKind::Beta => "beta",
            FindingKind::PathParameter => "path-parameter",
            FindingKind::QueryParameter => "query-parameter",
            FindingKind::UnsupportedParameter => "unsupported-parameter",
            FindingKind::RequestBody => "request-body",
            FindingKind::Response => "response",
            FindingKind::FieldMissingInRust => "field-missing-in-rust",
            FindingKind::FieldOnlyInRust => "field-only-in-rust",
            FindingKind::Type => "type",
            FindingKind::Format => "format",
            FindingKind::EnumValuesMissingInRust => "enum-values-missing-in-rust",
            FindingKind::EnumValuesOnlyInRust => "enum-values-only-in-rust",
            FindingKind::EnumConstraint => "enum-constraint",
            FindingKind::Required => "required",
            FindingKind::Nullable => "nullable",
            FindingKind::Deprecated => "deprecated",
            FindingKind::Reference => "reference",
            FindingKind::AdditionalProperties => "additional-properties",
            FindingKind::UntypedSecret => "untyped-secret",
        }
    }

    /// The heading of its group in the text report.
    pub fn title(self) -> &'static str {
        match self {
            FindingKind::UncoveredOperation => {
                "Spec operations neither covered nor listed in [not_yet_covered]"
            }
            FindingKind::UnknownOperation => "Rust operations the spec does not have",
            FindingKind::DuplicateOperation => "Rust operations declared twice",
            FindingKind::UncoveredSchema => {
                "Spec schemas neither covered nor listed in [not_yet_covered]"
            }
            FindingKind::UnknownSchema => "Rust types with no spec schema of that name",
            FindingKind::StaleExemption => "Exemptions naming nothing in the spec",
            FindingKind::CoveredButExempt => "Listed as not yet covered, but covered",
            FindingKind::UnusedDeviation => "Deviations that match no finding",
            FindingKind::Method => "HTTP method differs",
            FindingKind::Path => "Path template differs",
            FindingKind::Beta => "Beta badge differs",
            FindingKind::PathParameter => "Path parameters differ",
            FindingKind::QueryParameter => "Query parameters differ",
            FindingKind::UnsupportedParameter => "Header or cookie parameters",
            FindingKind::RequestBody => "Request body differs",
            FindingKind::Response => "Success response differs",
            FindingKind::FieldMissingInRust => "Spec properties missing in Rust",
            FindingKind::FieldOnlyInRust => "Rust fields the spec does not have",
            FindingKind::Type => "Type differs",
            FindingKind::Format => "Format differs",
            FindingKind::EnumValuesMissingInRust => "Enum values missing in Rust",
            FindingKind::EnumValuesOnlyInRust => "Enum values only in Rust",
            FindingKind::EnumConstraint => "Enum on one side only",
            FindingKind::Required => "Required or optional differs",
            FindingKind::Nullable => "Nullability differs",
            FindingKind::Deprecated => "Deprecation differs",
            FindingKind::Reference => "Referenced schema differs",
            FindingKind::AdditionalProperties => "Additional properties differ",
            FindingKind::UntypedSecret => {
                "Properties named like secrets, neither SecretValue nor reviewed"
            }
        }
    }
}

/// One difference between the spec and the Rust types.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// The operation, schema or `Schema.field` it is about.
    pub item: String,
    /// What the spec says.
    pub expected: String,
    /// What the Rust side has.
    pub found: String,
}

impl Finding {
    pub(crate) fn new(
        kind: FindingKind,
        item: &str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Finding {
            kind,
            item: item.to_owned(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}
