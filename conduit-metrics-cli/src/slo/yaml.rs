//! A YAML document as a tree whose every node knows its line, built from yaml-rust2's
//! events, so a mistake in an objective file is reported where it is written.

use yaml_rust2::Event;
use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A node and the line (1-based) it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Marked<T> {
    pub(crate) value: T,
    pub(crate) line: usize,
}

/// A YAML node: a scalar as written (its type is the reader's business), a sequence, or a
/// mapping with its keys in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Scalar(String),
    Sequence(Vec<Marked<Node>>),
    Mapping(Vec<(Marked<String>, Marked<Node>)>),
}

impl Node {
    /// What the node is, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Scalar(_) => "a value",
            Node::Sequence(_) => "a list",
            Node::Mapping(_) => "a mapping",
        }
    }
}

/// The first document of `text`; an empty text is an empty mapping.
pub(crate) fn parse(text: &str) -> Result<Marked<Node>, (usize, String)> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, false)
        .map_err(|error| (error.marker().line(), error.info().to_owned()))?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    Ok(builder.root.unwrap_or(Marked {
        value: Node::Mapping(Vec::new()),
        line: 1,
    }))
}

/// A collection being built: its line, its items, and for a mapping the key waiting for
/// its value.
enum Open {
    Sequence(usize, Vec<Marked<Node>>),
    Mapping(
        usize,
        Vec<(Marked<String>, Marked<Node>)>,
        Option<Marked<String>>,
    ),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    root: Option<Marked<Node>>,
    error: Option<(usize, String)>,
}

impl Builder {
    /// Puts a finished node into the collection it belongs to (or makes it the root).
    fn push(&mut self, node: Marked<Node>) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Open::Sequence(_, items)) => items.push(node),
            Some(Open::Mapping(_, entries, key)) => match key.take() {
                Some(key) => entries.push((key, node)),
                None => match node.value {
                    Node::Scalar(text) => {
                        *key = Some(Marked {
                            value: text,
                            line: node.line,
                        })
                    }
                    other => self.fail(
                        node.line,
                        format!("a key must be a name, not {}", other.kind()),
                    ),
                },
            },
        }
    }

    fn fail(&mut self, line: usize, message: String) {
        self.error.get_or_insert((line, message));
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, marker: Marker) {
        let line = marker.line();
        match event {
            Event::Scalar(text, ..) => self.push(Marked {
                value: Node::Scalar(text),
                line,
            }),
            Event::SequenceStart(..) => self.stack.push(Open::Sequence(line, Vec::new())),
            Event::MappingStart(..) => self.stack.push(Open::Mapping(line, Vec::new(), None)),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Open::Sequence(line, items)) => self.push(Marked {
                    value: Node::Sequence(items),
                    line,
                }),
                Some(Open::Mapping(line, entries, _)) => self.push(Marked {
                    value: Node::Mapping(entries),
                    line,
                }),
                None => {}
            },
            Event::Alias(_) => self.fail(
                line,
                "aliases (`*name`) are not supported in an objective file".to_owned(),
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_their_lines() {
        let tree = parse("service: a\nobjectives:\n  - name: x\n    target: 99.5\n").unwrap();
        let Node::Mapping(entries) = tree.value else {
            panic!()
        };
        assert_eq!(
            entries[0].0,
            Marked {
                value: "service".into(),
                line: 1
            }
        );
        assert_eq!(entries[1].0.line, 2);
        let Node::Sequence(items) = &entries[1].1.value else {
            panic!()
        };
        let Node::Mapping(objective) = &items[0].value else {
            panic!()
        };
        assert_eq!(objective[1].0.value, "target");
        assert_eq!(
            objective[1].1,
            Marked {
                value: Node::Scalar("99.5".into()),
                line: 4
            }
        );
    }

    #[test]
    fn syntax_errors_name_their_line() {
        let (line, message) = parse("service: a\nobjectives: [\n  - x\n").unwrap_err();
        assert!(line >= 2, "{line}: {message}");
        assert!(parse("a: &x 1\nb: *x\n").is_err());
    }
}
