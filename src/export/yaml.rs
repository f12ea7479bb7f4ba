//! A JSON value written as block-style YAML (what Quickwit's index
//! configurations are written in). Strings are written double-quoted with
//! JSON escapes, which YAML reads the same way.

use serde_json::Value;

/// `value` (an object) as a YAML document.
pub(super) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    block(&mut out, value, 0);
    out
}

/// Writes a non-empty object or array at `indent`, one entry per line.
fn block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                out.push_str(&pad);
                out.push_str(&key_text(key));
                out.push(':');
                entry(out, v, indent + 2);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                if is_block(item) {
                    // The item's first line goes after the dash.
                    let mut nested = String::new();
                    block(&mut nested, item, indent + 2);
                    out.push(' ');
                    out.push_str(&nested[indent + 2..]);
                } else {
                    out.push(' ');
                    out.push_str(&scalar(item));
                    out.push('\n');
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// The value of a key: inline when a scalar or empty, else on the next lines.
fn entry(out: &mut String, value: &Value, indent: usize) {
    if is_block(value) {
        out.push('\n');
        block(out, value, indent);
    } else {
        out.push(' ');
        out.push_str(&scalar(value));
        out.push('\n');
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

/// A scalar or an empty collection, inline.
fn scalar(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

/// A key, bare when it is a plain identifier.
fn key_text(key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_and_lists_are_indented_blocks() {
        let value = json!({
            "version": "0.8",
            "doc_mapping": {
                "field_mappings": [
                    {"name": "text", "type": "text", "fast": false},
                    {"name": "date", "input_formats": ["%Y-%m-%d"]}
                ],
                "tag_fields": []
            },
            "weird key": "a \"quoted\" \\p{L}"
        });
        let expected = r#"version: "0.8"
doc_mapping:
  field_mappings:
    - name: "text"
      type: "text"
      fast: false
    - name: "date"
      input_formats:
        - "%Y-%m-%d"
  tag_fields: []
"weird key": "a \"quoted\" \\p{L}"
"#;
        assert_eq!(to_yaml(&value), expected);
    }
}
