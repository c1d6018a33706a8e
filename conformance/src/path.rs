//! JSON paths as the suite prints them: `result[0].createdAt`.

use clickhouse_cloud_transport::replay::join_path;
use serde_json::Value;

/// Turns a JSON pointer (`/result/0/createdAt`) into the dotted form
/// (`result[0].createdAt`), reading `value` to tell array indexes from
/// object keys. The root is `.`.
pub fn json_path_of_pointer(value: &Value, pointer: &str) -> String {
    let mut path = String::new();
    let mut current = Some(value);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let index = match current {
            Some(Value::Array(_)) => segment.parse::<usize>().ok(),
            _ => None,
        };
        let piece = match index {
            Some(index) => format!("[{index}]"),
            None => key(&segment),
        };
        current = match (current, index) {
            (Some(Value::Array(items)), Some(index)) => items.get(index),
            (Some(Value::Object(map)), None) => map.get(&segment),
            _ => None,
        };
        path = join_path(&path, &piece);
    }
    if path.is_empty() {
        ".".to_owned()
    } else {
        path
    }
}

/// An object key as a path piece: bare when plain, bracketed and quoted
/// otherwise.
fn key(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        name.to_owned()
    } else {
        format!("[{}]", Value::String(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_become_dotted_paths() {
        let body = json!({"result": [{"createdAt": 42, "a/b": {"0": 1}}]});
        assert_eq!(json_path_of_pointer(&body, ""), ".");
        assert_eq!(
            json_path_of_pointer(&body, "/result/0/createdAt"),
            "result[0].createdAt"
        );
        assert_eq!(
            json_path_of_pointer(&body, "/result/0/a~1b/0"),
            r#"result[0]["a/b"].0"#
        );
    }
}
