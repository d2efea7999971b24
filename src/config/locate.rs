//! Where in the document an error is: the line and column of a byte offset, and the dotted
//! key path (`device[0].imei[1]`) at it, from a span tree of the same document.

use serde::Deserialize;
use toml::Spanned;

/// Line and column (both from 1, columns in characters) of byte `offset` of `text`.
pub(super) fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The shape of a TOML document with the span of every key and value.
enum Node {
    Leaf,
    Table(Vec<(Spanned<String>, Spanned<Node>)>),
    Array(Vec<Spanned<Node>>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any TOML value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_str<E>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut all = Vec::new();
                while let Some(x) = seq.next_element()? {
                    all.push(x);
                }
                Ok(Node::Array(all))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut all = Vec::new();
                while let Some(k) = map.next_key()? {
                    all.push((k, map.next_value()?));
                }
                Ok(Node::Table(all))
            }
        }
        d.deserialize_any(V)
    }
}

/// The dotted path (`device[0].imei[1]`) of the smallest key or value whose span holds
/// `offset`; for text that is not valid TOML, a guess from the lines before it.
pub(super) fn path_at(text: &str, offset: usize) -> String {
    match toml::from_str::<Node>(text) {
        Ok(root) => {
            let mut best: Option<(usize, String)> = None;
            walk(&root, String::new(), offset, &mut best);
            best.map(|(_, p)| p).unwrap_or_default()
        }
        Err(_) => guess(text, offset),
    }
}

fn holds(span: &std::ops::Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

fn consider(best: &mut Option<(usize, String)>, span: &std::ops::Range<usize>, path: &str) {
    let len = span.len();
    if best.as_ref().map_or(true, |(l, _)| len <= *l) {
        *best = Some((len, path.to_string()));
    }
}

fn walk(node: &Node, path: String, offset: usize, best: &mut Option<(usize, String)>) {
    match node {
        Node::Leaf => {}
        Node::Table(entries) => {
            for (k, v) in entries {
                let p = if path.is_empty() {
                    k.get_ref().clone()
                } else {
                    format!("{path}.{}", k.get_ref())
                };
                if holds(&k.span(), offset) {
                    consider(best, &k.span(), &p);
                }
                if holds(&v.span(), offset) {
                    consider(best, &v.span(), &p);
                }
                // Tables opened by a header hold keys outside their own span: descend always.
                walk(v.get_ref(), p, offset, best);
            }
        }
        Node::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                if holds(&v.span(), offset) {
                    consider(best, &v.span(), &p);
                }
                walk(v.get_ref(), p, offset, best);
            }
        }
    }
}

/// For syntax errors: the last table header before `offset` and the key on its line.
fn guess(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text
        .get(line_start..)
        .and_then(|l| l.lines().next())
        .unwrap_or("");
    let mut table = String::new();
    let mut arrays: Vec<(String, usize)> = Vec::new();
    let mut header = |l: &str, table: &mut String| {
        let l = l.trim();
        if let Some(name) = l.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
            let name = name.trim().to_string();
            let n = match arrays.iter_mut().find(|(a, _)| *a == name) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    arrays.push((name.clone(), 0));
                    0
                }
            };
            *table = format!("{name}[{n}]");
        } else if let Some(name) = l.strip_prefix('[').and_then(|l| l.split(']').next()) {
            *table = name.trim().to_string();
        }
    };
    for l in text.get(..line_start).unwrap_or("").lines() {
        header(l, &mut table);
    }
    if line.trim_start().starts_with('[') {
        header(line, &mut table);
        return table;
    }
    match line.split_once('=') {
        Some((k, _)) => {
            let k = k.trim().trim_matches('"');
            if table.is_empty() {
                k.to_string()
            } else {
                format!("{table}.{k}")
            }
        }
        None => table,
    }
}
