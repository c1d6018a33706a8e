//! Prints, as one JSON document on stdout, what `clickhouse-cloud-types`
//! declares: every operation with the JSON Schema of its parts, the schema
//! of every type that stands for a component schema of the spec, the
//! envelope, the error body and the fields marked secret.
//!
//! `cargo xtask check-spec` runs it and compares the document with the
//! spec. It is a program of its own so that the xtask never links the
//! types crate: the generator that writes that crate keeps working when
//! what it wrote does not compile.

use clickhouse_cloud_types::operation::{
    Described, DescribedOperation, DescribedOperationVisitor, DescribedTypeVisitor,
};
use clickhouse_cloud_types::{Envelope, ErrorBody};
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

struct Collector {
    named: SchemaGenerator,
    inline: SchemaGenerator,
    operations: Vec<Value>,
    schemas: serde_json::Map<String, Value>,
}

impl DescribedOperationVisitor for Collector {
    fn visit<O: DescribedOperation>(&mut self) {
        let body = self.named.subschema_for::<O::Body>();
        let output = self.named.subschema_for::<O::Output>();
        let path = self.inline.subschema_for::<O::Path>();
        let query = self.inline.subschema_for::<O::Query>();
        self.operations.push(json!({
            "id": O::ID,
            "method": O::METHOD.as_str(),
            "path": O::PATH,
            "tag": O::TAG,
            "beta": O::BETA,
            "deprecated": O::DEPRECATED,
            "idempotent": O::IDEMPOTENT,
            "response": format!("{:?}", O::RESPONSE),
            "pathParams": path.as_value(),
            "query": query.as_value(),
            "body": body.as_value(),
            "output": output.as_value(),
        }));
    }
}

impl DescribedTypeVisitor for Collector {
    fn visit<T: Described>(&mut self, schema: &'static str) {
        let reference = self.named.subschema_for::<T>();
        self.schemas
            .insert(schema.to_owned(), reference.as_value().clone());
    }
}

fn main() {
    let mut inline = SchemaSettings::draft2020_12();
    inline.inline_subschemas = true;
    let mut collector = Collector {
        named: SchemaSettings::draft2020_12().into_generator(),
        inline: inline.into_generator(),
        operations: Vec::new(),
        schemas: serde_json::Map::new(),
    };
    clickhouse_cloud_types::ops::visit_all_described(&mut collector);
    clickhouse_cloud_types::visit_described_schemas(&mut collector);
    let envelope = collector.inline.subschema_for::<Envelope<()>>();
    let error_body = collector.inline.subschema_for::<ErrorBody>();
    let document = json!({
        "operations": collector.operations,
        "schemas": collector.schemas,
        "definitions": collector.named.definitions(),
        "envelope": envelope.as_value(),
        "errorBody": error_body.as_value(),
        "secrets": clickhouse_cloud_types::SECRET_FIELDS,
    });
    println!("{document}");
}

#[cfg(test)]
mod tests {
    //! This crate always builds the types crate with the `schema` feature:
    //! an operation of someone else's, whose types have no JSON Schema,
    //! must still be an `Operation` here (the feature adds, never narrows).

    use clickhouse_cloud_types::Request;
    use clickhouse_cloud_types::operation::{Method, Operation, ResponseFormat};

    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
    struct Note {
        text: String,
    }

    struct NotePost;

    impl Operation for NotePost {
        const ID: &'static str = "notePost";
        const METHOD: Method = Method::Post;
        const PATH: &'static str = "/v1/notes";
        const TAG: &'static str = "Notes";
        const BETA: bool = false;
        const DEPRECATED: bool = false;
        const IDEMPOTENT: bool = false;
        const RESPONSE: ResponseFormat = ResponseFormat::Json;
        type Path = ();
        type Query = ();
        type Body = Note;
        type Output = Note;
    }

    #[test]
    fn an_operation_without_json_schema_is_an_operation_with_the_feature_on() {
        let body = Note { text: "hi".into() };
        let encoded = Request::<NotePost>::new((), body).encode().unwrap();
        assert_eq!(encoded.path, "/v1/notes");
        assert_eq!(encoded.body.as_deref(), Some(&br#"{"text":"hi"}"#[..]));
    }
}
